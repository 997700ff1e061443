// A coordination.k8s.io/v1 Lease read, created and replaced over plain HTTPS on a KubeConfig's own options (CA,
// client certificate, token), as leader election needs it: every call bounded in time, a replace carrying the
// resourceVersion it read (the apiserver answers 409 Conflict when another replica wrote in between), and
// MicroTime fields in the apiserver's own format (RFC 3339 with exactly six fractional digits).
import http from 'node:http';
import https from 'node:https';
import type * as k8s from '@kubernetes/client-node';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion?: string; [k: string]: unknown };
  spec?: LeaseSpec;
}

/** Where leader election keeps its record; `code` on a thrown error is the HTTP status (409 = lost a race). */
export interface LeaseLock {
  /** namespace/name, for logs and errors */
  readonly description: string;
  get(timeoutMs: number): Promise<Lease | undefined>;
  create(spec: LeaseSpec, timeoutMs: number): Promise<Lease>;
  /** PUT with `lease.metadata.resourceVersion` as the precondition */
  update(lease: Lease, timeoutMs: number): Promise<Lease>;
}

/** metav1.MicroTime as the apiserver writes and parses it: 2006-01-02T15:04:05.000000Z. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaseError extends Error {
  constructor(message: string, readonly code?: number) { super(message); }
}

export function kubeLeaseLock(kc: k8s.KubeConfig, namespace: string, name: string, userAgent?: string): LeaseLock {
  const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
  const description = `Lease ${namespace}/${name}`;
  const agent = new https.Agent({ keepAlive: true, maxSockets: 2 });
  const request = async (method: string, path: string, timeoutMs: number, body?: unknown): Promise<{ status: number; json: unknown; text: string }> => {
    const server = kc.getCurrentCluster()?.server;
    if (!server) throw new LeaseError(`${description}: the kubeconfig has no current cluster`);
    const url = new URL(server.replace(/\/$/, '') + path);
    const opts: https.RequestOptions = { method, headers: { accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}), ...(userAgent ? { 'user-agent': userAgent } : {}) } };
    await kc.applyToHTTPSOptions(opts);
    const plain = url.protocol === 'http:';
    if (plain) delete opts.agent;
    else if (!kc.getCurrentCluster()?.proxyUrl) opts.agent = agent;
    return new Promise((resolve, reject) => {
      const req = (plain ? http : https).request(url, opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try { json = JSON.parse(text); } catch { json = undefined; }
          resolve({ status: res.statusCode ?? 0, json, text });
        });
        res.on('error', reject);
      });
      req.setTimeout(Math.max(1, timeoutMs), () => req.destroy(new LeaseError(`${method} ${description}: no answer within ${timeoutMs} ms`)));
      req.on('error', (e) => reject(e instanceof LeaseError ? e : new LeaseError(`${method} ${description}: ${e.message}`)));
      req.end(body ? JSON.stringify(body) : undefined);
    });
  };
  const fail = (what: string, r: { status: number; json: unknown; text: string }): never => {
    const message = (r.json as { message?: string } | undefined)?.message ?? r.text.slice(0, 200);
    const hint = r.status === 403 ? ' (the control plane needs get, create and update on leases.coordination.k8s.io in its namespace)'
      : r.status === 404 && /namespaces? "/.test(message) ? ` (create namespace ${namespace} first, e.g. with "meshfed install")` : '';
    throw new LeaseError(`${what} ${description}: HTTP ${r.status}: ${message}${hint}`, r.status);
  };
  return {
    description,
    async get(timeoutMs) {
      const r = await request('GET', `${base}/${encodeURIComponent(name)}`, timeoutMs);
      if (r.status === 404) return undefined;
      if (r.status !== 200) fail('reading', r);
      return r.json as Lease;
    },
    async create(spec, timeoutMs) {
      const r = await request('POST', base, timeoutMs, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec });
      if (r.status !== 201 && r.status !== 200) fail('creating', r);
      return r.json as Lease;
    },
    async update(lease, timeoutMs) {
      const r = await request('PUT', `${base}/${encodeURIComponent(name)}`, timeoutMs, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease });
      if (r.status !== 200) fail('updating', r);
      return r.json as Lease;
    },
  };
}
