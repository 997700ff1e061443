// The sidecar's side of an upstream: mTLS to a destination sidecar or a remote gateway (SNI = the cluster), the
// peer's SPIFFE ID checked; keep-alive pools per destination cluster sized by its DestinationRule connection pool;
// one HTTP try with its connect budget and per-try timeout; raw mTLS for CONNECT tunnels.
import https from 'node:https';
import type http from 'node:http';
import type net from 'node:net';
import tls, { type PeerCertificate } from 'node:tls';
import { TCP_ALPN } from './tunnel.ts';
import { peerSpiffeId } from './spiffePeer.ts';
import type { ClusterPolicy } from './clusterPolicy.ts';

export interface Credentials { key: string; cert: string; ca: string }

export interface TryResult { status: number; headers: http.IncomingHttpHeaders; stream: http.IncomingMessage }

/** Keep-alive pool per destination cluster, sized by its circuit breaker (maxConnections). */
function newAgent(cp: ClusterPolicy): https.Agent {
  const max = cp.maxConnections ?? 64;
  return new https.Agent({ keepAlive: cp.maxRequestsPerConnection !== 1, maxSockets: max, maxTotalSockets: max });
}

export class Upstream {
  /** per destination cluster (SNI), rebuilt when its policy changes */
  private agents = new Map<string, { agent: https.Agent; policy: ClusterPolicy }>();
  private readonly socketUses = new WeakMap<net.Socket, number>();

  constructor(private readonly trustDomain: string, private creds: Credentials) {}

  /** New certificates: pooled connections made with the old ones are closed. */
  setCredentials(c: Credentials): void {
    this.creds = c;
    const old = this.agents;
    this.agents = new Map();
    for (const a of old.values()) a.agent.destroy();
  }

  close(): void {
    for (const a of this.agents.values()) a.agent.destroy();
  }

  private agentFor(sni: string, cp: ClusterPolicy): https.Agent {
    const cur = this.agents.get(sni);
    if (cur && cur.policy === cp) return cur.agent;
    cur?.agent.destroy();
    const agent = newAgent(cp);
    this.agents.set(sni, { agent, policy: cp });
    return agent;
  }

  private checkPeer(): (host: string, cert: PeerCertificate) => Error | undefined {
    const td = this.trustDomain;
    return (_h, cert) => (peerSpiffeId(cert.subjectaltname, td) ? undefined : new Error(`peer has no SPIFFE ID in trust domain ${td}`));
  }

  /** mTLS with ALPN meshfed-tcp (a CONNECT tunnel), within `ms` for TCP + TLS. */
  connectTls(address: string, port: number, sni: string, ms: number): Promise<tls.TLSSocket> {
    return new Promise((resolve, reject) => {
      const s = tls.connect({ host: address, port, servername: sni, ALPNProtocols: [TCP_ALPN], ...this.creds, checkServerIdentity: this.checkPeer() }, () => { clearTimeout(t); s.off('error', reject); resolve(s); });
      const t = setTimeout(() => s.destroy(new Error(`TLS connect timed out after ${ms} ms`)), ms);
      s.once('error', (e) => { clearTimeout(t); reject(e); });
    });
  }

  /** Health probe: does a TLS handshake (mTLS, the peer's SPIFFE ID checked) with the endpoint finish within `ms`? */
  probe(address: string, port: number, sni: string, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const s = tls.connect({ host: address, port, servername: sni, ALPNProtocols: ['http/1.1'], ...this.creds, checkServerIdentity: this.checkPeer() }, () => { clearTimeout(t); s.end(); resolve(true); });
      // end(), not destroy(): our Finished must reach the peer, or its inbound logs the probe as a failed handshake
      const t = setTimeout(() => { s.destroy(); resolve(false); }, ms);
      s.once('error', () => { clearTimeout(t); s.destroy(); resolve(false); });
    });
  }

  /**
   * One HTTP try. Rejects with `connectPhase: true` when nothing was sent (TCP/TLS failed or exceeded connectMs),
   * with `perTryTimeout: true` when no response headers came within timeoutMs, with `staleConnection: true` when a
   * pooled keep-alive connection failed before any answer (the peer had closed it: a stopped or restarted endpoint).
   */
  request(address: string, port: number, sni: string, method: string, path: string, headers: http.OutgoingHttpHeaders, body: Buffer, timeoutMs: number, connectMs: number, cp: ClusterPolicy): Promise<TryResult> {
    return new Promise((resolve, reject) => {
      let connected = false;
      let socket: net.Socket | undefined;
      const req = https.request({ host: address, port, method, path, headers, servername: sni, agent: this.agentFor(sni, cp), ...this.creds, checkServerIdentity: this.checkPeer() }, (res) => {
        clearTimeout(perTry);
        // maxRequestsPerConnection: close a connection that served its quota (before the pool hands it out again)
        const limit = cp.maxRequestsPerConnection;
        if (limit && limit > 1 && socket && (this.socketUses.get(socket) ?? 0) >= limit) { const s = socket; res.once('end', () => s.destroy()); }
        resolve({ status: res.statusCode ?? 502, headers: res.headers, stream: res });
      });
      const perTry = setTimeout(() => req.destroy(Object.assign(new Error(`no response within the per-try timeout of ${timeoutMs} ms`), { perTryTimeout: true })), timeoutMs);
      req.on('socket', (s) => {
        socket = s;
        this.socketUses.set(s, (this.socketUses.get(s) ?? 0) + 1);
        // a pooled keep-alive socket is already connected; a new one must finish TCP + TLS within connectMs
        if (req.reusedSocket) { connected = true; return; }
        const t = setTimeout(() => { if (!connected) req.destroy(new Error(`TLS connect to ${address}:${port} timed out after ${connectMs} ms`)); }, connectMs);
        s.once('secureConnect', () => { connected = true; clearTimeout(t); });
        s.once('close', () => clearTimeout(t));
      });
      req.on('error', (e) => { clearTimeout(perTry); reject(Object.assign(e, { connectPhase: !connected, staleConnection: req.reusedSocket && (e as { perTryTimeout?: boolean }).perTryTimeout !== true })); });
      req.end(body);
    });
  }
}
