// Sidecar inbound: terminates mTLS (client certificate required, chained to the trust bundle, SPIFFE ID of the
// trust domain), adds x-forwarded-client-cert and x-request-id, forwards HTTP/1.1 to the local app. The first byte
// tells TLS from plaintext (Istio's protocol sniffing): plaintext HTTP is served only where the PeerAuthentication in
// force (pilot's inbound listener, src/proxy/inboundPolicy.ts) is PERMISSIVE or DISABLE, and TLS is refused under
// DISABLE. Authorization (RBAC) runs per HTTP request (403 "RBAC: access denied", as Envoy) and per TCP tunnel at
// connect; the peer identity is only ever the verified client certificate's SPIFFE ID.
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { TCP_ALPN } from './tunnel.ts';
import type { Logger } from '../log.ts';
import { Counter, metric, type Registry } from '../observe/metrics.ts';
import { requestMetrics, parsePeerHeader, PEER_HEADER } from './requestMetrics.ts';
import { withoutHopByHop } from './hopByHop.ts';
import { ensureTraceHeaders } from './trace.ts';
import { peerSpiffeId, xfcc } from './spiffePeer.ts';
import { rateLimitedWarn } from './rateLimitedLog.ts';
import { appPortForSni, type AppPorts, type XdsAppPorts } from './appPorts.ts';
import { acceptsTls, DEFAULT_INBOUND, selectChain, type InboundPolicy } from './inboundPolicy.ts';
import { authorize, authzMetrics, httpRequestAttributes } from './inboundAuthz.ts';

export interface InboundOptions {
  host: string;
  port: number;
  appHost?: string;
  appPort: number;
  /** service port (from the caller's SNI) → app port; unmapped ports go to appPort */
  appPorts?: AppPorts;
  ownId: string;
  trustDomain: string;
  destinationService: string;
  /** this workload's cluster and region (telemetry labels) */
  cluster?: string;
  region?: string;
  tls: { key: string; cert: string; ca: string };
  registry: Registry;
  log: Logger;
}

export interface Inbound {
  port: number;
  setCredentials(c: { key: string; cert: string; ca: string }): void;
  /** the workload's ports per `<host>:<service port>`, from pilot (used where --app-ports says nothing) */
  setXdsAppPorts(p: XdsAppPorts): void;
  /** the inbound listener pilot sent (mTLS modes and authorization) */
  setPolicy(p: InboundPolicy): void;
  close(): Promise<void>;
}

export async function startInbound(o: InboundOptions): Promise<Inbound> {
  const m = requestMetrics(o.registry);
  const refused = metric(o.registry, 'meshfed_sidecar_inbound_refused_total', (registers) => new Counter({ name: 'meshfed_sidecar_inbound_refused_total', help: 'Inbound connections refused, by reason', labelNames: ['reason'], registers }));
  const warn = rateLimitedWarn(o.log);
  let xdsAppPorts: XdsAppPorts = new Map();
  let policy: InboundPolicy = DEFAULT_INBOUND;
  const authz = authzMetrics(o.registry);
  const refuseTls = (sock: net.Socket): void => {
    refused.inc({ reason: 'mtls_disabled' });
    warn('mtls_disabled', { peer: sock.remoteAddress }, 'sidecar inbound refused a TLS connection (PeerAuthentication DISABLE: plaintext only)');
    sock.destroy();
  };
  const plaintextSockets = new WeakSet<net.Socket>();
  // the verified peer of a connection, read once: getPeerCertificate() builds the whole certificate object per call
  const peers = new WeakMap<TLSSocket, string | undefined>();
  const peerOf = (sock: TLSSocket): string | undefined => {
    if (peers.has(sock)) return peers.get(sock);
    const id = peerSpiffeId(sock.getPeerCertificate().subjectaltname, o.trustDomain);
    peers.set(sock, id);
    return id;
  };

  // TLS is terminated here; ALPN "meshfed-tcp" (a CONNECT tunnel from the calling sidecar) is spliced to the app as
  // raw TCP, everything else is HTTP/1.1 handled by `web`.
  const tunnels = new Set<net.Socket>();
  const conns = new Set<net.Socket>();
  const tlsServer = tls.createServer({ ...o.tls, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2', ALPNProtocols: [TCP_ALPN, 'http/1.1'] }, (sock) => {
    if (sock.alpnProtocol !== TCP_ALPN) {
      // tracked here: `web` never listens, so its closeAllConnections() does not know these sockets
      conns.add(sock);
      sock.once('close', () => conns.delete(sock));
      web.emit('connection', sock);
      return;
    }
    const peer = peerSpiffeId(sock.getPeerCertificate().subjectaltname, o.trustDomain);
    if (!peer) { refused.inc({ reason: 'no_spiffe_id' }); sock.destroy(); return; }
    const appPort = appPortForSni(sock.servername, o.appPorts, o.appPort, xdsAppPorts);
    const chain = selectChain(policy, { port: appPort, tls: true, alpn: sock.alpnProtocol });
    if (!chain) { refuseTls(sock); return; }
    const d = authorize(chain.tcp, { principal: peer, sourceIp: sock.remoteAddress ?? '', destinationPort: appPort }, authz, warn, 'tcp');
    if (!d.allowed) { sock.destroy(); return; }
    const app = net.connect(appPort, o.appHost ?? '127.0.0.1');
    tunnels.add(sock); tunnels.add(app);
    const end = (): void => { sock.destroy(); app.destroy(); tunnels.delete(sock); tunnels.delete(app); };
    sock.on('error', end); app.on('error', (e) => { warn('app', { appPort, err: e.message }, 'sidecar inbound: app unreachable (tcp tunnel)'); end(); });
    sock.on('close', end); app.on('close', end);
    sock.pipe(app); app.pipe(sock);
  });
  const web = http.createServer((req, res) => {
    const started = Date.now();
    const sock = req.socket as TLSSocket;
    const plaintext = plaintextSockets.has(sock);
    const peer = plaintext ? undefined : peerOf(sock);
    if (!peer && !plaintext) {
      refused.inc({ reason: 'no_spiffe_id' });
      res.writeHead(403, { 'content-type': 'text/plain' }).end(`peer certificate has no SPIFFE ID in trust domain ${o.trustDomain}\n`);
      return;
    }
    const appPort = plaintext ? o.appPort : appPortForSni(sock.servername, o.appPorts, o.appPort, xdsAppPorts);
    const chain = selectChain(policy, { port: appPort, tls: !plaintext, alpn: plaintext ? '' : sock.alpnProtocol });
    if (!chain && !plaintext) { refuseTls(sock); return; } // DISABLE for the port the caller's SNI names
    if (!chain) {
      // the mode changed to STRICT while this plaintext connection was open
      refused.inc({ reason: 'plaintext' });
      res.writeHead(403, { 'content-type': 'text/plain', connection: 'close' }).end('plaintext is not accepted: mTLS is STRICT for this workload\n');
      return;
    }
    const d = authorize(chain.http, { ...(peer ? { principal: peer } : {}), sourceIp: sock.remoteAddress ?? '', destinationPort: appPort, ...httpRequestAttributes(req) }, authz, warn, 'http');
    if (!d.allowed) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('RBAC: access denied');
      return;
    }
    const source = peer?.split('/sa/')[1] ?? 'unknown';
    const caller = peer ? parsePeerHeader(req.headers[PEER_HEADER]) : {};
    const headers: http.OutgoingHttpHeaders = withoutHopByHop(req.headers);
    // the only identity the app sees is the one this sidecar verified (a plaintext caller's XFCC is dropped)
    if (peer) headers['x-forwarded-client-cert'] = xfcc(o.ownId, peer);
    else delete headers['x-forwarded-client-cert'];
    delete headers[PEER_HEADER];
    ensureTraceHeaders(headers);
    let reqBytes = 0;
    let resBytes = 0;
    req.on('data', (c: Buffer) => { reqBytes += c.length; });
    const done = (code: number): void => {
      // no source_region here: only the source reporter carries both regions (see requestMetrics.ts)
      const labels = { reporter: 'destination', source_workload: source, source_cluster: caller.cluster ?? 'unknown', destination_service: o.destinationService, destination_cluster: o.cluster ?? 'unknown', destination_region: o.region ?? 'unknown', response_code: String(code) };
      m.requests.inc(labels);
      m.duration.observe(labels, Date.now() - started);
      if (reqBytes > 0) m.requestBytes.inc(labels, reqBytes);
      if (resBytes > 0) m.responseBytes.inc(labels, resBytes);
    };
    const up = http.request({ host: o.appHost ?? '127.0.0.1', port: appPort, method: req.method, path: req.url, headers }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, withoutHopByHop(ur.headers));
      ur.on('data', (c: Buffer) => { resBytes += c.length; });
      ur.pipe(res);
      ur.on('end', () => done(ur.statusCode ?? 502));
    });
    up.on('error', (e) => {
      warn('app', { appPort, err: e.message }, 'sidecar inbound: app unreachable');
      if (!res.headersSent) res.writeHead(503, { 'content-type': 'text/plain' }).end(`app on port ${appPort} unreachable: ${e.message}\n`);
      done(503);
    });
    req.pipe(up);
  });
  tlsServer.on('tlsClientError', (e: Error & { code?: string }) => {
    const reason = /certificate|cert/i.test(e.message) || e.code?.includes('CERT') ? 'bad_client_cert' : /wrong version|http request|unknown protocol/i.test(e.message) ? 'plaintext' : 'tls_error';
    refused.inc({ reason });
    warn(reason, { err: e.message }, 'sidecar inbound refused connection');
  });
  // the first byte decides: 0x16 (a TLS handshake record) → mTLS; anything else is plaintext HTTP, served only where a
  // plaintext filter chain exists for the workload port (PERMISSIVE/DISABLE), else refused as Envoy would (closed)
  const server = net.createServer((sock) => {
    conns.add(sock);
    sock.once('close', () => conns.delete(sock));
    sock.on('error', () => sock.destroy());
    sock.setTimeout(10_000, () => sock.destroy());
    sock.once('data', (b: Buffer) => {
      sock.setTimeout(0);
      sock.pause();
      if (b[0] === 0x16) {
        // PeerAuthentication DISABLE: no TLS chain, as an Envoy with istiod's DISABLE listener closes the connection
        if (!acceptsTls(policy)) { refuseTls(sock); return; }
        sock.unshift(b); tlsServer.emit('connection', sock); return;
      }
      if (!selectChain(policy, { port: o.appPort, tls: false })) {
        refused.inc({ reason: 'plaintext' });
        warn('plaintext', { peer: sock.remoteAddress }, 'sidecar inbound refused a plaintext connection (mTLS is STRICT for this workload)');
        sock.destroy();
        return;
      }
      plaintextSockets.add(sock);
      web.emit('connection', sock);
      // http's parser reads the socket's handle directly: hand it the byte(s) already read
      sock.emit('data', b);
      sock.resume();
    });
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(o.port, o.host, () => resolve()); });
  return {
    port: (server.address() as AddressInfo).port,
    setCredentials: (c) => tlsServer.setSecureContext({ ...c }),
    setXdsAppPorts: (p) => { xdsAppPorts = p; },
    setPolicy: (p) => { policy = p; },
    // like a stopped process: every connection goes (a caller's pooled keep-alive connection must not outlive us)
    close: () => new Promise((r) => { for (const c of conns) c.destroy(); for (const t of tunnels) t.destroy(); server.close(() => r()); }),
  };
}
