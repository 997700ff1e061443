// Raw GETs against a cluster's API server with a deadline and an abort: what the informer lists, watches and probes
// with. client-node's generated clients and its Watch set no timeout and cannot be aborted before the response
// headers arrive, so a server that accepts the connection but never answers (SIGSTOP, a wedged proxy) would hold
// them forever. Credentials, CA and client certificates come from the KubeConfig (and its keep-alive agent).
import http from 'node:http';
import https from 'node:https';
import type * as k8s from '@kubernetes/client-node';

/** A failed call, shaped like client-node's ApiException (`code` = HTTP status, `body` = the Status text) so
 *  apiStatus()/apiMessage() read both alike. No `code`: the server did not answer (network error or deadline). */
export class KubeRequestError extends Error {
  constructor(message: string, readonly code?: number | string, readonly body?: string) {
    super(message);
    this.name = 'KubeRequestError';
  }
}

export interface GetOptions {
  /** query parameters; undefined values are left out */
  query?: Record<string, string | number | boolean | undefined>;
  /** the response headers must arrive within this time (ms) */
  timeoutMs: number;
  signal?: AbortSignal;
}

function fail(req: http.ClientRequest, err: Error): void {
  if (!req.destroyed) req.destroy(err);
}

/** GET `path`; resolves with the 200 response as soon as its headers arrive (the caller reads and ends it).
 *  Any other status rejects with the apiserver's Status in `body`; no answer in time rejects without a `code`. */
export async function openGet(kc: k8s.KubeConfig, path: string, o: GetOptions): Promise<http.IncomingMessage> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeRequestError('the kubeconfig has no current cluster');
  const opts: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  o.signal?.throwIfAborted();
  const url = new URL(cluster.server.replace(/\/+$/, '') + path);
  for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'meshfed' };
  for (const [k, v] of Object.entries(opts.headers ?? {})) if (typeof v === 'string' || typeof v === 'number') headers[k] = String(v);
  if (opts.auth) headers.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
  const lib = url.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const req = lib.request(url, { method: 'GET', headers, ...(opts.agent !== undefined ? { agent: opts.agent } : {}), ...(url.protocol === 'https:' ? tlsOf(opts) : {}) });
    // the verdict waits two turns of the event loop: after a long stall of this process an answer already in the
    // socket (or a request an in-process server has yet to read) is handled before it is declared missing
    let answered = false;
    const timer = setTimeout(() => afterTurns(2, () => answered || fail(req, new KubeRequestError(`the API server ${url.host} accepted the connection but did not answer within ${Math.round(o.timeoutMs / 100) / 10} s`))), o.timeoutMs);
    const onAbort = (): void => fail(req, new KubeRequestError('aborted', 'ABORTED'));
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const done = (): void => { clearTimeout(timer); o.signal?.removeEventListener('abort', onAbort); };
    req.on('error', (e) => { done(); reject(e); });
    req.on('response', (res) => {
      answered = true;
      done();
      if (res.statusCode === 200) {
        // the caller owns the stream from here; an abort still ends it
        if (o.signal) {
          const stop = (): void => { res.destroy(new KubeRequestError('aborted', 'ABORTED')); };
          o.signal.addEventListener('abort', stop, { once: true });
          res.once('close', () => o.signal?.removeEventListener('abort', stop));
        }
        resolve(res);
        return;
      }
      // an error answer: read its Status (small) within the same deadline
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { if (body.length < 64 * 1024) body += c; });
      res.on('error', () => reject(httpError(res.statusCode ?? 0, body)));
      res.on('end', () => reject(httpError(res.statusCode ?? 0, body)));
    });
    req.end();
  });
}

/** GET `path` and parse its JSON body; the whole answer (headers and body) must arrive within `timeoutMs`. */
export async function getJson<T>(kc: k8s.KubeConfig, path: string, o: GetOptions): Promise<T> {
  const ac = new AbortController();
  const signal = o.signal ? AbortSignal.any([o.signal, ac.signal]) : ac.signal;
  const started = Date.now();
  const res = await openGet(kc, path, { ...o, signal });
  const left = Math.max(1, o.timeoutMs - (Date.now() - started));
  return new Promise<T>((resolve, reject) => {
    let ended = false;
    const timer = setTimeout(() => afterTurns(2, () => ended || res.destroy(new KubeRequestError(`the API server did not finish answering GET ${path} within ${Math.round(o.timeoutMs / 100) / 10} s`))), left);
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('error', (e) => { clearTimeout(timer); reject(e); });
    res.on('end', () => {
      ended = true;
      clearTimeout(timer);
      try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as T); } catch (e) { reject(new KubeRequestError(`GET ${path}: the answer is not JSON: ${(e as Error).message}`)); }
    });
  });
}

/** Runs `fn` after `n` turns of the event loop (each turn polls the sockets once). */
function afterTurns(n: number, fn: () => void): void {
  if (n <= 0) fn();
  else setImmediate(() => afterTurns(n - 1, fn));
}

function tlsOf(opts: https.RequestOptions): https.RequestOptions {
  const out: https.RequestOptions = {};
  for (const k of ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const) {
    if (opts[k] !== undefined) (out as Record<string, unknown>)[k] = opts[k];
  }
  return out;
}

function httpError(status: number, body: string): KubeRequestError {
  let message = `HTTP ${status}`;
  try {
    const s = JSON.parse(body) as { message?: unknown };
    if (typeof s.message === 'string' && s.message) message += `: ${s.message}`;
  } catch { /* not a Status */ }
  return new KubeRequestError(message, status, body);
}
