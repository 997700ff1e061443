// Test harness: one stand-in apiserver plus a client-node KubeConfig pointed at it.
import * as k8s from '@kubernetes/client-node';
import { startApiServer, kubeconfigFor, type ApiServer, type ApiServerOptions } from '../../src/devcluster/index.ts';
import { standinTls } from '../../src/playground/standinTls.ts';

export interface Harness { server: ApiServer; kc: k8s.KubeConfig; core: k8s.CoreV1Api; raw: (method: string, path: string, body?: string | Buffer | object, headers?: Record<string, string>) => Promise<{ status: number; json: any; text: string }> }

export async function harness(opts: Partial<ApiServerOptions> = {}): Promise<Harness> {
  const server = await startApiServer({ name: 'test', ...opts, tls: opts.tls ?? standinTls(opts.name ?? 'test') });
  const kc = new k8s.KubeConfig();
  kc.loadFromString(kubeconfigFor([server]));
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const { Agent, request } = await import('node:https');
  const agent = new Agent({ ca: server.ca, keepAlive: false });
  const raw: Harness['raw'] = (method, path, body, headers = {}) =>
    new Promise((resolve, reject) => {
      const text = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
      const req = request(server.url + path, { method, agent, headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json', ...(text !== undefined ? { 'content-length': String(Buffer.byteLength(text)) } : {}), ...headers } }, (res) => {
        let t = '';
        res.on('data', (c) => (t += c));
        res.on('end', () => {
          let json: unknown;
          try { json = JSON.parse(t); } catch { json = undefined; }
          resolve({ status: res.statusCode ?? 0, json, text: t });
        });
      });
      req.on('error', reject);
      if (text !== undefined) req.write(text);
      req.end();
    });
  return { server, kc, core, raw };
}

/** The HTTP status of a failed client-node call (ApiException.code). */
export async function statusOf(p: Promise<unknown>): Promise<{ code: number; body: any }> {
  try {
    await p;
  } catch (e) {
    const err = e as { code?: number; body?: unknown };
    const body = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
    return { code: err.code ?? 0, body };
  }
  throw new Error('expected the call to fail');
}

export async function waitFor(cond: () => boolean, what: string, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
