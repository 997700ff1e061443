// Default hooks so the server runs alone: one fixed admin bearer token, allow-all authorization,
// a Name/Age table. devB's auth/rbac/token/table modules replace these.
import type { IncomingMessage } from 'node:http';
import type { AuthnResult, KubeObject, ResourceInfo, StandinLog, Table } from './types.ts';
import type { ApiHooks } from './hookTypes.ts';

/** Reports nowhere: the stand-in's default when its caller gives it no log. */
export const silentLog: StandinLog = { info() {}, warn() {}, error() {} };

export const ADMIN_USER = { username: 'kubernetes-admin', uid: 'admin', groups: ['system:masters', 'system:authenticated'] };

export function bearerToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : '';
}

export function tokenAuthenticator(adminToken: string): (req: IncomingMessage) => AuthnResult {
  return (req) => {
    const t = bearerToken(req);
    if (t === adminToken) return { user: ADMIN_USER };
    return { error: 'unauthorized' };
  };
}

function age(ts: string | undefined, now = Date.now()): string {
  if (!ts) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

export function defaultTable(_info: ResourceInfo, objects: KubeObject[]): Table {
  return {
    kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: {},
    columnDefinitions: [
      { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 },
      { name: 'Age', type: 'string', format: '', description: 'CreationTimestamp', priority: 0 },
    ],
    rows: objects.map((o) => ({
      cells: [o.metadata.name, age(o.metadata.creationTimestamp)],
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}

export function defaultHooks(adminToken: string): ApiHooks {
  return {
    authenticate: tokenAuthenticator(adminToken),
    authorize: () => ({ allowed: true }),
    subresourceHandlers: {},
    virtualCreate: {},
    toTable: defaultTable,
    controllers: [],
  };
}
