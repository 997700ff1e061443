// Traffic to a destination outside the mesh (a ServiceEntry's endpoints, or passthrough under ALLOW_ANY): plain HTTP
// request forwarding and raw TCP for CONNECT, with one metric and a rate-limited log line for refusals.
import http from 'node:http';
import net from 'node:net';
import { Counter, metric, type Registry } from '../observe/metrics.ts';
import { withoutHopByHop } from './hopByHop.ts';
import type { EgressDecision } from './egressPolicy.ts';

export type EgressMetrics = Counter<'decision'>;

export function egressMetrics(registry: Registry): EgressMetrics {
  return metric(registry, 'meshfed_sidecar_egress_total', (registers) => new Counter({
    name: 'meshfed_sidecar_egress_total',
    help: 'Outbound requests and tunnels to destinations outside the mesh registry: decision service_entry|passthrough|refused (REGISTRY_ONLY)',
    labelNames: ['decision'],
    registers,
  }));
}

export const refusedText = (host: string, port: number): string =>
  `meshfed sidecar: ${host}:${port} is neither a mesh service nor a ServiceEntry, and outboundTrafficPolicy is REGISTRY_ONLY; apply a ServiceEntry for it`;

/** Forwards an HTTP request (body streamed) to `d` and streams the answer back. */
export function forwardHttp(req: http.IncomingMessage, res: http.ServerResponse, d: Exclude<EgressDecision, { kind: 'refused' }>, path: string, origHost: string, origPort: number, onDone: (code: number) => void): void {
  const headers = withoutHopByHop(req.headers);
  headers.host = origPort === 80 ? origHost : `${origHost}:${origPort}`;
  const up = http.request({ host: d.host, port: d.port, method: req.method, path, headers, timeout: 30_000 }, (ur) => {
    res.writeHead(ur.statusCode ?? 502, withoutHopByHop(ur.headers));
    ur.pipe(res);
    ur.on('end', () => onDone(ur.statusCode ?? 502));
  });
  up.on('timeout', () => up.destroy(new Error('no answer within 30 s')));
  up.on('error', (e) => {
    const code = (e as NodeJS.ErrnoException).code === 'ENOTFOUND' || (e as NodeJS.ErrnoException).code === 'EAI_AGAIN' ? 503 : 502;
    if (!res.headersSent) res.writeHead(code, { 'content-type': 'text/plain' }).end(`meshfed sidecar: unknown service ${origHost}:${origPort} (not in the mesh; ${d.kind === 'passthrough' ? 'passthrough' : `ServiceEntry ${d.serviceEntry}`} to ${d.host}:${d.port} failed: ${e.message})\n`);
    else res.destroy();
    onDone(code);
  });
  req.pipe(up);
}

/** CONNECT to a destination outside the mesh: raw TCP, 200 once connected. */
export function tunnelTcp(client: net.Socket, head: Buffer, d: Exclude<EgressDecision, { kind: 'refused' }>, origHost: string, origPort: number, tunnels: Set<net.Socket>): void {
  const up = net.connect(d.port, d.host);
  up.setTimeout(10_000, () => up.destroy(new Error('connect timeout')));
  up.once('connect', () => {
    up.setTimeout(0);
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) up.write(head);
    client.pipe(up); up.pipe(client);
  });
  tunnels.add(client); tunnels.add(up);
  let connected = false;
  up.once('connect', () => { connected = true; });
  const end = (): void => { client.destroy(); up.destroy(); tunnels.delete(client); tunnels.delete(up); };
  up.on('error', (e) => {
    if (connected || client.destroyed) { end(); return; }
    // not connected: say why, then close (the answer must reach the app before the socket goes)
    tunnels.delete(up);
    client.end(`HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nmeshfed sidecar: unknown service ${origHost}:${origPort} (not in the mesh; connecting to ${d.host}:${d.port} failed: ${e.message})\n`);
  });
  up.on('close', () => { if (connected) end(); }); client.on('close', end); client.on('error', end);
}
