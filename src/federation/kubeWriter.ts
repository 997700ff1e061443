// The replicator's three calls (read, server-side apply, delete) as plain HTTPS requests on the KubeConfig's own
// options (CA, client certificate, token — whatever client-node's authenticators put there) on a keep-alive
// agent of our own (below). client-node's generic object API deserializes every answer into model classes through node-fetch and rxjs:
// at 20,000 replicas that per-request machinery was most of what replication promoted to the old heap (a sampled
// heap profile: node-fetch Headers alone 17 MB of 82 MB for 6,000 writes). Errors look like client-node's
// (`code` = HTTP status, `body` = the apiserver's Status text), so src/kube/apiError.ts reads them the same way.
import http from 'node:http';
import https from 'node:https';
import type * as k8s from '@kubernetes/client-node';

const TIMEOUT_MS = 30_000;

// One keep-alive agent per KubeConfig, owned by the caller (the Replicator keeps them in a KubeWriterAgents).
// client-node's applyToHTTPSOptions builds a new https.Agent (without keep-alive) on every call, so each write paid
// a TLS handshake on a new connection: 40,000 handshakes for 20,000 replicas, and their buffers promoted to the old
// heap while they waited. The TLS material (CA, client certificate) still comes with each request's options, which
// is also what the agent keys its sockets by, and the credentials (token headers) are fresh per request. A cluster
// behind a proxy keeps client-node's proxy agent.
export class KubeWriterAgents {
  private readonly agents = new WeakMap<k8s.KubeConfig, https.Agent>();

  for(kc: k8s.KubeConfig): https.Agent | undefined {
    if (kc.getCurrentCluster()?.proxyUrl) return undefined;
    let agent = this.agents.get(kc);
    if (!agent) {
      // idle connections are closed after a while (the apiserver would close them anyway)
      agent = new https.Agent({ keepAlive: true, maxSockets: 16, maxFreeSockets: 16, timeout: 60_000 });
      this.agents.set(kc, agent);
    }
    return agent;
  }
}

/** A write refused because this replica no longer leads (see src/controlplane/leaderElection.ts). */
export class FencedError extends Error {
  constructor(what: string) { super(`${what}: not sent, this replica no longer holds the leader lease`); }
}

export interface KubeWriterOptions {
  /** may this replica still write? Checked when the request is about to leave (the connection is up), not before */
  fence?: () => boolean;
  userAgent?: string;
}

export interface KubeWriter {
  /** The object at `path`, or undefined when it does not exist. */
  get(path: string): Promise<k8s.KubernetesObject | undefined>;
  /** Server-side apply of `body` at `path` (no force: a field another manager owns is a 409). */
  apply(path: string, body: k8s.KubernetesObject, fieldManager: string): Promise<void>;
  delete(path: string): Promise<void>;
}

/** API path of a core/v1 Namespace or a namespaced core/v1 object (Services). */
export function objectPath(kind: 'Namespace' | 'Service', name: string, namespace?: string): string {
  const n = encodeURIComponent(name);
  return kind === 'Namespace' ? `/api/v1/namespaces/${n}` : `/api/v1/namespaces/${encodeURIComponent(namespace ?? '')}/services/${n}`;
}

/** A writer for `kc`'s cluster; `agents` keeps one keep-alive agent per KubeConfig across writers. */
export function kubeWriter(kc: k8s.KubeConfig, agents: KubeWriterAgents = new KubeWriterAgents(), wo: KubeWriterOptions = {}): KubeWriter {
  const request = async (method: string, path: string, body?: string, contentType?: string): Promise<{ status: number; text: string }> => {
    const fenced = method !== 'GET' ? wo.fence : undefined;
    const server = kc.getCurrentCluster()?.server;
    if (!server) throw new Error('the kubeconfig has no current cluster');
    const url = new URL(server.replace(/\/$/, '') + path);
    const opts: https.RequestOptions = { method, headers: { accept: 'application/json', ...(contentType ? { 'content-type': contentType } : {}), ...(wo.userAgent ? { 'user-agent': wo.userAgent } : {}) } };
    await kc.applyToHTTPSOptions(opts);
    const plain = url.protocol === 'http:';
    if (plain) delete opts.agent;
    else opts.agent = agents.for(kc) ?? opts.agent;
    return new Promise((resolve, reject) => {
      const req = (plain ? http : https).request(url, opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error(`${method} ${url.host}${path}: no answer within ${TIMEOUT_MS / 1000} s`)));
      req.on('error', reject);
      if (!fenced) { req.end(body); return; }
      // fencing: nothing (not even the headers) leaves before the connection is up and the check passes in the
      // same tick as the write, so a replica paused while connecting does not send a stale write when it resumes
      req.on('socket', (socket) => {
        const go = (): void => {
          if (fenced()) req.end(body);
          else req.destroy(new FencedError(`${method} ${path}`));
        };
        if (!socket.connecting) go();
        else socket.once(plain ? 'connect' : 'secureConnect', go);
      });
    });
  };
  const check = (method: string, path: string, r: { status: number; text: string }): void => {
    if (r.status >= 200 && r.status < 300) return;
    let message = r.text.slice(0, 300);
    try { message = (JSON.parse(r.text) as { message?: string }).message ?? message; } catch { /* not a Status */ }
    throw Object.assign(new Error(`${method} ${path}: HTTP ${r.status}: ${message}`), { code: r.status, body: r.text });
  };
  return {
    async get(path) {
      const r = await request('GET', path);
      if (r.status === 404) return undefined;
      check('GET', path, r);
      return JSON.parse(r.text) as k8s.KubernetesObject;
    },
    async apply(path, body, fieldManager) {
      const q = `?fieldManager=${encodeURIComponent(fieldManager)}&force=false`;
      check('PATCH', path, await request('PATCH', path + q, JSON.stringify(body), 'application/apply-patch+yaml'));
    },
    async delete(path) {
      check('DELETE', path, await request('DELETE', path));
    },
  };
}
