// Sidecar outbound: an HTTP/1.1 proxy for the app (HTTP_PROXY absolute-form, or origin-form with Host). Resolves
// the service from the endpoint table (xDS), opens mTLS to the destination's inbound or the remote gateway with
// SNI outbound_.<port>_._.<host>, verifies the peer's SPIFFE ID, retries idempotent requests on another endpoint.
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { TCP_ALPN } from './tunnel.ts';
import type { PeerCertificate } from 'node:tls';
import type { Logger } from '../log.ts';
import type { Registry } from '../observe/metrics.ts';
import { requestMetrics, PEER_HEADER, peerHeader, type RequestMetrics } from './requestMetrics.ts';
import { ensureTraceHeaders } from './trace.ts';
import { gatewaySni } from '../mesh/names.ts';
import { route, recordOutcome, endpointKey, type EndpointTable, type OutlierState } from './routing.ts';
import { parseOutboundTarget, candidateHosts, IDEMPOTENT } from './outboundTarget.ts';
import { peerSpiffeId } from './spiffePeer.ts';

export interface OutboundOptions {
  host: string;
  port: number;
  namespace: string;
  sourceWorkload: string;
  /** this workload's cluster and region (telemetry labels) */
  sourceCluster?: string;
  sourceRegion?: string;
  trustDomain: string;
  tls: { key: string; cert: string; ca: string };
  registry: Registry;
  log: Logger;
  maxAttempts?: number;
  /** per try: until the response headers arrive (default 5000) */
  perTryTimeoutMs?: number;
  /** whole request, all tries included (default 15000): past it the app gets 504 */
  timeoutMs?: number;
  /** TCP+TLS handshake budget per try; a black-holed endpoint (accepts, never answers) fails over after this */
  connectTimeoutMs?: number;
  maxBodyBytes?: number;
}

/** Connect failures one request may skip past (each on a different endpoint). */
const MAX_CONNECT_FAILURES = 16;

export class Outbound {
  /** Keyed by gatewaySni(host, port) — the same key whether the endpoint is a sidecar or a remote gateway. */
  private table: EndpointTable = new Map();
  private readonly outliers: OutlierState = new Map();
  private readonly active = new Map<string, number>();
  private readonly server: http.Server;
  private creds: OutboundOptions['tls'];
  private agent = new https.Agent({ keepAlive: true, maxSockets: 64 });
  private rr = 0;
  private readonly tunnels = new Set<net.Socket>();
  private readonly m: RequestMetrics;

  constructor(private readonly o: OutboundOptions) {
    this.creds = o.tls;
    this.m = requestMetrics(o.registry);
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connect', (req: http.IncomingMessage, sock: net.Socket, head: Buffer) => void this.tunnel(req, sock, head));
  }

  setEndpoints(t: EndpointTable): void { this.table = t; }
  setCredentials(c: OutboundOptions['tls']): void { this.creds = c; const old = this.agent; this.agent = new https.Agent({ keepAlive: true, maxSockets: 64 }); old.destroy(); }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => { this.server.once('error', reject); this.server.listen(this.o.port, this.o.host, () => resolve()); });
    return (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> { return new Promise((r) => { this.agent.destroy(); for (const t of this.tunnels) t.destroy(); this.server.closeAllConnections(); this.server.close(() => r()); }); }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = Date.now();
    const t = parseOutboundTarget(req.url ?? '/', req.headers.host);
    if ('error' in t) { res.writeHead(400, { 'content-type': 'text/plain' }).end(`meshfed sidecar: ${t.error}\n`); return; }
    const host = candidateHosts(t.host, this.o.namespace).find((h) => this.table.has(gatewaySni(h, t.port)));
    let requestBytes = 0;
    const finish = (code: number, svc: string, dest?: { region?: string; cluster?: string }, response?: NodeJS.ReadableStream): void => {
      const labels = {
        reporter: 'source', source_workload: this.o.sourceWorkload, source_cluster: this.o.sourceCluster ?? 'unknown', source_region: this.o.sourceRegion ?? 'unknown',
        destination_service: svc, destination_cluster: dest?.cluster ?? 'unknown', destination_region: dest?.region ?? 'unknown', response_code: String(code),
      };
      this.m.requests.inc(labels);
      this.m.duration.observe(labels, Date.now() - started);
      if (requestBytes > 0) this.m.requestBytes.inc(labels, requestBytes);
      if (response) {
        let n = 0;
        response.on('data', (c: Buffer) => { n += c.length; });
        response.on('end', () => { if (n > 0) this.m.responseBytes.inc(labels, n); });
      }
    };
    if (!host) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end(`meshfed sidecar: unknown service ${t.host}:${t.port} (not in the mesh configuration from xDS)\n`);
      finish(503, t.host);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) { size += (c as Buffer).length; if (size > (this.o.maxBodyBytes ?? 4 << 20)) { res.writeHead(413).end('meshfed sidecar: body too large to proxy\n'); return; } chunks.push(c as Buffer); }
    const body = Buffer.concat(chunks);
    requestBytes = body.length;
    const headers: http.OutgoingHttpHeaders = { ...req.headers, host: `${host}:${t.port}` };
    delete headers['proxy-connection'];
    ensureTraceHeaders(headers);
    headers[PEER_HEADER] = peerHeader(this.o.sourceCluster ?? 'unknown', this.o.sourceRegion ?? 'unknown');
    const sni = gatewaySni(host, t.port);
    const tried = new Set<string>();
    // A failed connect sent nothing, so it is retried on another endpoint for any method and does not use up the
    // retry budget (each endpoint is tried at most once per request, so a dead locality is skipped in one request).
    // Failures after the request went out (reset, timeout, 503) are retried only for idempotent methods.
    const maxAttempts = IDEMPOTENT.has(req.method ?? 'GET') ? (this.o.maxAttempts ?? 3) : 1;
    let attempts = 0;
    let connectFailures = 0;
    let lastError = 'no healthy endpoint';
    const overall = this.o.timeoutMs ?? 15000;
    const deadline = started + overall;
    while (attempts < maxAttempts && connectFailures < MAX_CONNECT_FAILURES) {
      const left = deadline - Date.now();
      if (left <= 0) {
        res.writeHead(504, { 'content-type': 'text/plain' }).end(`meshfed sidecar: ${host}:${t.port} did not answer within the overall timeout of ${overall} ms (${tried.size} attempt(s); last: ${lastError})\n`);
        finish(504, host);
        return;
      }
      const d = route(sni, this.table, this.outliers, this.active, Date.now(), tried, this.rr++);
      if (d.kind !== 'endpoint') break;
      const key = endpointKey(d.endpoint);
      tried.add(key);
      this.active.set(key, (this.active.get(key) ?? 0) + 1);
      try {
        const perTry = Math.min(this.o.perTryTimeoutMs ?? 5000, left);
        // the short connect budget only when another endpoint is left to fail over to; the last one gets the try's
        // whole budget (a slow handshake on a loaded machine is not a reason to fail the request)
        const connectMs = this.hasAlternative(sni, tried) ? (this.o.connectTimeoutMs ?? 1000) : perTry;
        const r = await this.try(d.endpoint.address, d.endpoint.port, sni, req.method ?? 'GET', t.path, headers, body, perTry, connectMs);
        recordOutcome(this.outliers, key, true, Date.now());
        attempts++;
        if (r.status === 503 && attempts < maxAttempts) { r.stream.resume(); lastError = `${key} answered 503`; continue; }
        res.writeHead(r.status, r.headers);
        finish(r.status, host, d.endpoint, r.stream);
        r.stream.pipe(res);
        return;
      } catch (e) {
        lastError = `${key}: ${(e as Error).message}`;
        if ((e as { connectPhase?: boolean }).connectPhase) {
          connectFailures++;
          recordOutcome(this.outliers, key, false, Date.now());
        } else {
          attempts++;
        }
      } finally {
        const n = (this.active.get(key) ?? 1) - 1;
        if (n <= 0) this.active.delete(key); else this.active.set(key, n);
      }
    }
    res.writeHead(503, { 'content-type': 'text/plain' }).end(`meshfed sidecar: no healthy endpoint for ${host}:${t.port} after ${tried.size} attempt(s): ${lastError}\n`);
    finish(503, host);
  }

  /** HTTP CONNECT <service>:<port> → mTLS (ALPN meshfed-tcp) to an endpoint, connect failures retried on the next. */
  private async tunnel(req: http.IncomingMessage, client: net.Socket, head: Buffer): Promise<void> {
    client.on('error', () => {});
    const fail = (code: number, msg: string): void => { client.end(`HTTP/1.1 ${code} ${code === 400 ? 'Bad Request' : 'Service Unavailable'}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nmeshfed sidecar: ${msg}\n`); };
    const m = /^([a-z0-9.-]+):(\d{1,5})$/i.exec(req.url ?? '');
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) { fail(400, `CONNECT needs <service>:<port>, got ${JSON.stringify(req.url)}`); return; }
    const port = Number(m[2]);
    const host = candidateHosts(m[1]!.toLowerCase(), this.o.namespace).find((h) => this.table.has(gatewaySni(h, port)));
    if (!host) { fail(503, `unknown service ${m[1]}:${port} (not in the mesh configuration from xDS)`); return; }
    const sni = gatewaySni(host, port);
    const tried = new Set<string>();
    let lastError = 'no healthy endpoint';
    for (let i = 0; i < MAX_CONNECT_FAILURES; i++) {
      const d = route(sni, this.table, this.outliers, this.active, Date.now(), tried, this.rr++);
      if (d.kind !== 'endpoint') break;
      const key = endpointKey(d.endpoint);
      tried.add(key);
      try {
        const up = await this.connectTls(d.endpoint.address, d.endpoint.port, sni, this.hasAlternative(sni, tried) ? (this.o.connectTimeoutMs ?? 1000) : (this.o.perTryTimeoutMs ?? 5000));
        recordOutcome(this.outliers, key, true, Date.now());
        if (client.destroyed) { up.destroy(); return; }
        this.tunnels.add(up); this.tunnels.add(client);
        const end = (): void => { up.destroy(); client.destroy(); this.tunnels.delete(up); this.tunnels.delete(client); };
        up.on('error', end); up.on('close', end); client.on('close', end);
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length) up.write(head);
        client.pipe(up); up.pipe(client);
        return;
      } catch (e) {
        lastError = `${key}: ${(e as Error).message}`;
        recordOutcome(this.outliers, key, false, Date.now());
      }
    }
    fail(503, `no healthy endpoint for ${host}:${port} after ${tried.size} attempt(s): ${lastError}`);
  }

  /** Is there an endpoint left (not tried, not ejected) after the ones in `tried`? */
  private hasAlternative(sni: string, tried: ReadonlySet<string>): boolean {
    return route(sni, this.table, this.outliers, this.active, Date.now(), tried).kind === 'endpoint';
  }

  private connectTls(address: string, port: number, sni: string, ms: number): Promise<tls.TLSSocket> {
    const td = this.o.trustDomain;
    return new Promise((resolve, reject) => {
      const s = tls.connect({
        host: address, port, servername: sni, ALPNProtocols: [TCP_ALPN], ...this.creds,
        checkServerIdentity: (_h: string, cert: PeerCertificate) => (peerSpiffeId(cert.subjectaltname, td) ? undefined : new Error(`peer has no SPIFFE ID in trust domain ${td}`)),
      }, () => { clearTimeout(t); s.off('error', reject); resolve(s); });
      const t = setTimeout(() => s.destroy(new Error(`TLS connect timed out after ${ms} ms`)), ms);
      s.once('error', (e) => { clearTimeout(t); reject(e); });
    });
  }

  private try(address: string, port: number, sni: string, method: string, path: string, headers: http.OutgoingHttpHeaders, body: Buffer, timeoutMs: number, connectMs: number): Promise<{ status: number; headers: http.IncomingHttpHeaders; stream: http.IncomingMessage }> {
    return new Promise((resolve, reject) => {
      let connected = false;
      const td = this.o.trustDomain;
      const req = https.request({
        host: address, port, method, path, headers, servername: sni, agent: this.agent, ...this.creds,
        checkServerIdentity: (_h: string, cert: PeerCertificate) => (peerSpiffeId(cert.subjectaltname, td) ? undefined : new Error(`peer has no SPIFFE ID in trust domain ${td}`)),
      }, (res) => { clearTimeout(perTry); resolve({ status: res.statusCode ?? 502, headers: res.headers, stream: res }); });
      const perTry = setTimeout(() => req.destroy(new Error(`no response within the per-try timeout of ${timeoutMs} ms`)), timeoutMs);
      req.on('socket', (s) => {
        // a pooled keep-alive socket is already connected; a new one must finish TCP + TLS within connectTimeoutMs
        if (req.reusedSocket) { connected = true; return; }
        const t = setTimeout(() => { if (!connected) req.destroy(new Error(`TLS connect to ${address}:${port} timed out after ${connectMs} ms`)); }, connectMs);
        s.once('secureConnect', () => { connected = true; clearTimeout(t); });
        s.once('close', () => clearTimeout(t));
      });
      req.on('error', (e) => { clearTimeout(perTry); reject(Object.assign(e, { connectPhase: !connected })); });
      req.end(body);
    });
  }
}
