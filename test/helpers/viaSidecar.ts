// What an app sends through its own sidecar's outbound in the end-to-end tests: an HTTP request in absolute form (as
// an app with HTTP_PROXY sends it), and a CONNECT tunnel carrying one plain HTTP GET.
import http from 'node:http';
import net from 'node:net';
import type { MeshedEcho } from '../proxy/fixtures/mesh.ts';

export interface Answer { status: number; body: string }

/** `method url` through `from`'s sidecar outbound; a POST carries the body `x=1`. Rejects on a socket error or after 20 s. */
export function requestVia(from: MeshedEcho, method: string, url: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: from.w.ip, port: from.sidecar.outbound, method, path: url, agent: false, timeout: 20_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end(method === 'POST' ? 'x=1' : undefined);
  });
}

/**
 * CONNECT `target` through `from`'s sidecar outbound and, once the tunnel answers 200, `GET path` with `Host: host` on
 * it. Resolves with all that came back (the CONNECT answer first) when the far end closes, on an error, or after 15 s.
 */
export function getThroughTunnel(from: MeshedEcho, target: string, path: string, host: string): Promise<string> {
  return new Promise((resolve) => {
    const c = net.connect(from.sidecar.outbound, from.w.ip, () => c.write(`CONNECT ${target} HTTP/1.1\r\nhost: ${target}\r\n\r\n`));
    let got = '';
    let sent = false;
    c.on('data', (d: Buffer) => {
      got += d;
      if (!sent && got.startsWith('HTTP/1.1 200') && got.includes('\r\n\r\n')) { sent = true; c.write(`GET ${path} HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`); }
    });
    c.on('close', () => resolve(got));
    c.on('error', () => resolve(got));
    setTimeout(() => { c.destroy(); resolve(got); }, 15_000).unref();
  });
}
