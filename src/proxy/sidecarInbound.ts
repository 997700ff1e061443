// Sidecar inbound: terminates mTLS (client certificate required, chained to the trust bundle, SPIFFE ID of the
// trust domain), adds x-forwarded-client-cert and x-request-id, forwards HTTP/1.1 to the local app.
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
  close(): Promise<void>;
}

export async function startInbound(o: InboundOptions): Promise<Inbound> {
  const m = requestMetrics(o.registry);
  const refused = metric(o.registry, 'meshfed_sidecar_inbound_refused_total', (registers) => new Counter({ name: 'meshfed_sidecar_inbound_refused_total', help: 'Inbound connections refused, by reason', labelNames: ['reason'], registers }));
  const warn = rateLimitedWarn(o.log);
  let xdsAppPorts: XdsAppPorts = new Map();

  // TLS is terminated here; ALPN "meshfed-tcp" (a CONNECT tunnel from the calling sidecar) is spliced to the app as
  // raw TCP, everything else is HTTP/1.1 handled by `web`.
  const tunnels = new Set<net.Socket>();
  const conns = new Set<net.Socket>();
  const server = tls.createServer({ ...o.tls, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2', ALPNProtocols: [TCP_ALPN, 'http/1.1'] }, (sock) => {
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
    const peer = peerSpiffeId(sock.getPeerCertificate().subjectaltname, o.trustDomain);
    if (!peer) {
      refused.inc({ reason: 'no_spiffe_id' });
      res.writeHead(403, { 'content-type': 'text/plain' }).end(`peer certificate has no SPIFFE ID in trust domain ${o.trustDomain}\n`);
      return;
    }
    const source = peer.split('/sa/')[1] ?? 'unknown';
    const caller = parsePeerHeader(req.headers[PEER_HEADER]);
    const headers: http.OutgoingHttpHeaders = { ...withoutHopByHop(req.headers), 'x-forwarded-client-cert': xfcc(o.ownId, peer) };
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
    const appPort = appPortForSni(sock.servername, o.appPorts, o.appPort, xdsAppPorts);
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
  server.on('tlsClientError', (e: Error & { code?: string }) => {
    const reason = /certificate|cert/i.test(e.message) || e.code?.includes('CERT') ? 'bad_client_cert' : /wrong version|http request|unknown protocol/i.test(e.message) ? 'plaintext' : 'tls_error';
    refused.inc({ reason });
    warn(reason, { err: e.message }, 'sidecar inbound refused connection');
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(o.port, o.host, () => resolve()); });
  return {
    port: (server.address() as AddressInfo).port,
    setCredentials: (c) => server.setSecureContext({ ...c }),
    setXdsAppPorts: (p) => { xdsAppPorts = p; },
    // like a stopped process: every connection goes (a caller's pooled keep-alive connection must not outlive us)
    close: () => new Promise((r) => { for (const c of conns) c.destroy(); for (const t of tunnels) t.destroy(); server.close(() => r()); }),
  };
}
