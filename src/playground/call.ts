// A request from a demo client through its sidecar's outbound proxy (HTTP_PROXY style, absolute-form URL).
import http from 'node:http';
import type { EchoReply } from '../demo/echo.ts';

export interface CallResult { ok: boolean; status: number; ms: number; reply?: EchoReply; error?: string }

export function callThroughSidecar(proxy: { host: string; port: number }, url: string, timeoutMs = 5000): Promise<CallResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.request({ host: proxy.host, port: proxy.port, method: 'GET', path: url, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        const ms = performance.now() - t0;
        const status = res.statusCode ?? 0;
        if (status !== 200) { resolve({ ok: false, status, ms, error: body.trim() }); return; }
        try { resolve({ ok: true, status, ms, reply: JSON.parse(body) as EchoReply }); } catch { resolve({ ok: false, status, ms, error: `not an echo reply: ${body.slice(0, 200)}` }); }
      });
      res.on('error', (e) => resolve({ ok: false, status: 0, ms: performance.now() - t0, error: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => resolve({ ok: false, status: 0, ms: performance.now() - t0, error: e.message }));
    req.end();
  });
}
