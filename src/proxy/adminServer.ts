// Proxy admin HTTP: /healthz/ready (200 once configured, 503 with the reason before/while draining) and /stats/prometheus.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** what /stats/prometheus serves: a registry, or the workers' metrics summed by the gateway's primary */
export interface MetricsSource { contentType: string; metrics(): Promise<string> }

export async function startAdminServer(host: string, port: number, ready: () => boolean | string, registry: MetricsSource | undefined): Promise<{ port: number; close: () => Promise<void> }> {
  const srv = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz/ready') {
      const r = ready();
      res.writeHead(r === true ? 200 : 503, { 'content-type': 'text/plain' }).end(r === true ? 'ready\n' : `not ready: ${r || 'no xDS configuration yet or draining'}\n`);
    } else if (path === '/stats/prometheus' && registry) {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (e: Error) => res.writeHead(500).end(`metrics failed: ${e.message}\n`),
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz/ready or /stats/prometheus\n');
    }
  });
  await new Promise<void>((resolve, reject) => { srv.once('error', reject); srv.listen(port, host, () => resolve()); });
  return {
    port: (srv.address() as AddressInfo).port,
    close: () => new Promise((r) => { srv.closeAllConnections(); srv.close(() => r()); }),
  };
}
