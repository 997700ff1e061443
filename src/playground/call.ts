// A request from a demo client through its sidecar's outbound proxy (HTTP_PROXY style, absolute-form URL).
import http from 'node:http';
import type { EchoReply } from '../demo/echo.ts';

/** What `meshfed dev call` sends besides the target: curl's -X, -H and -d. */
export interface CallRequest {
  method?: string;
  headers?: Readonly<Record<string, string>>;
  body?: string;
}

export interface CallResult {
  /** a 2xx answer */
  ok: boolean;
  status: number;
  ms: number;
  /** the answer when it came from the demo's echo server */
  reply?: EchoReply;
  /** the answer's body when it is not an echo reply (an external service, a proxy's error page) */
  body?: string;
  /** what went wrong: the body of a non-2xx answer, or why there was no answer */
  error?: string;
}

/**
 * The URL a call goes to: an absolute http:// URL as given (a destination outside the mesh), else
 * `SERVICE[:PORT][/PATH]` → http://SERVICE:PORT/PATH, the port defaulting to `defaultPort`.
 */
export function callUrl(target: string, defaultPort: number): string {
  if (/^https?:\/\//i.test(target)) return target;
  const m = /^([a-z0-9.-]+)(?::(\d{1,5}))?(\/.*)?$/i.exec(target);
  if (!m) throw new Error(`"${target}" is neither SERVICE[:PORT][/PATH] (e.g. echo, echo:8080/hello) nor an http:// URL`);
  return `http://${m[1]}:${m[2] ?? defaultPort}${m[3] ?? '/'}`;
}

function isEchoReply(v: unknown): v is EchoReply {
  return typeof v === 'object' && v !== null && typeof (v as EchoReply).cluster === 'string' && typeof (v as EchoReply).method === 'string';
}

export function callThroughSidecar(proxy: { host: string; port: number }, url: string, timeoutMs = 5000, r: CallRequest = {}): Promise<CallResult> {
  const t0 = performance.now();
  const headers: Record<string, string> = { ...(r.headers ?? {}) };
  if (r.body !== undefined) headers['content-length'] = String(Buffer.byteLength(r.body));
  return new Promise((resolve) => {
    const req = http.request({ host: proxy.host, port: proxy.port, method: r.method ?? 'GET', path: url, headers, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        const ms = performance.now() - t0;
        const status = res.statusCode ?? 0;
        const ok = status >= 200 && status < 300;
        if (!ok) { resolve({ ok, status, ms, error: body.trim() }); return; }
        let parsed: unknown;
        try { parsed = JSON.parse(body); } catch { /* not JSON: not the echo server */ }
        resolve(isEchoReply(parsed) ? { ok, status, ms, reply: parsed } : { ok, status, ms, body });
      });
      res.on('error', (e) => resolve({ ok: false, status: 0, ms: performance.now() - t0, error: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => resolve({ ok: false, status: 0, ms: performance.now() - t0, error: e.message }));
    req.end(r.body);
  });
}
