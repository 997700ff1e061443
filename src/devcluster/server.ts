// The HTTPS API server of one stand-in cluster: authn/authz hooks, discovery, REST verbs, watch streaming, patches.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Registry } from 'prom-client';
import { Counter } from 'prom-client';
import { ApiError, badRequest, forbidden, methodNotAllowed, notFound, unauthorized } from './errors.ts';
import { apiVersionOf } from './resources.ts';
import { Store, type StoreOptions, type WatchEvent } from './store.ts';
import type { KubeObject, ResourceInfo, StandinLog, TlsMaterial, UserInfo } from './types.ts';
import type { ApiHooks } from './hookTypes.ts';
import { checkShape } from './validate.ts';
import { decodeBody, isEmptyBody, readBody } from './http/body.ts';
import { apiGroup, apiGroupList, coreVersions, resourceList, versionInfo } from './http/discovery.ts';
import { parseResourcePath, queryBool, verbOf, type ResourcePath } from './http/route.ts';
import { builtinSubresource } from './http/subresources.ts';
import { applyImpersonation } from './auth/impersonation.ts';
import { jsonPatch, listKeysOf, managerOf, mergePatch, recordUpdate, serverSideApply, strategicMergePatch, type Json } from './patch.ts';
import { defaultHooks, silentLog } from './defaults.ts';

export interface ApiServerOptions extends StoreOptions {
  name: string;
  host?: string; // default 127.0.0.1
  port?: number; // default 0 (OS chooses)
  /** serving key, certificate and the CA clients trust it by: the caller makes them (the stand-in has no PKI) */
  tls: TlsMaterial;
  /** where the stand-in reports (listening, internal errors; secure.ts: rejected tokens, controller write failures); a pino Logger fits; silent without one */
  log?: StandinLog;
  adminToken?: string;
  hooks?: Partial<ApiHooks>;
  registry?: Registry;
  /** interval of BOOKMARK events on watches that ask for them (ms); default 60 s as kube-apiserver */
  bookmarkIntervalMs?: number;
}

export interface ApiServer {
  name: string;
  url: string;
  port: number;
  ca: string;
  adminToken: string;
  store: Store;
  hooks: ApiHooks;
  /** close every open watch (as an apiserver restart would) without stopping the server */
  closeWatches(): void;
  /** false: drop every connection and stop listening (clients see "connection refused", as in a network
   *  partition); the objects and controllers stay. true: listen again on the same address. */
  setReachable(reachable: boolean): Promise<void>;
  close(): Promise<void>;
}

/** Kinds kube-apiserver lets a PUT create (AllowCreateOnUpdate); for the rest PUT on a missing object is 404. */
const CREATE_ON_UPDATE = new Set(['endpoints', 'leases']);
/** Whether an Accept header ranks the protobuf OpenAPI form above JSON (first listed wins; no header → JSON). */
export function prefersProtobuf(accept: string): boolean {
  for (const part of accept.split(',')) {
    const media = part.split(';')[0].trim();
    if (/protobuf/.test(media)) return true;
    if (/json/.test(media) || media === '*/*' || media === 'application/*') return false;
  }
  return false;
}
const nowStamp = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

function send(res: ServerResponse, code: number, body: unknown): void {
  if (res.headersSent) { res.end(); return; }
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-cache, private' });
  res.end(text);
}

function listOf(info: ResourceInfo, l: ReturnType<Store['list']>) {
  const metadata: Record<string, unknown> = { resourceVersion: l.resourceVersion };
  if (l.continue) { metadata.continue = l.continue; metadata.remainingItemCount = l.remainingItemCount; }
  return { kind: info.listKind, apiVersion: apiVersionOf(info), metadata, items: l.items };
}

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const tls = opts.tls;
  if (!tls?.cert || !tls.key || !tls.ca) throw new Error(`cluster "${opts.name}": tls {cert, key, ca} PEMs are required (the caller makes the stand-in's serving certificate)`);
  const store = new Store(opts.name, opts);
  const adminToken = opts.adminToken ?? `admin-${opts.name}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  const hooks: ApiHooks = { ...defaultHooks(adminToken), ...opts.hooks };
  const log = opts.log ?? silentLog;
  const requests = opts.registry
    ? new Counter({ name: 'meshfed_devcluster_requests_total', help: 'API requests served by the stand-in', labelNames: ['cluster', 'verb', 'code'], registers: [opts.registry] })
    : undefined;
  const watches = new Set<() => void>();
  const bookmarkMs = opts.bookmarkIntervalMs ?? 60_000;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<{ verb: string }> => {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const q = url.searchParams;
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (['/healthz', '/livez', '/readyz'].includes(path)) { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('ok'); return { verb: 'health' }; }
    const authn = await hooks.authenticate(req);
    if ('error' in authn) throw unauthorized(authn.message);
    const user = await applyImpersonation(req, authn.user, (u, a) => hooks.authorize(u, a));
    const rp = parseResourcePath(path);
    if (!rp) {
      const allowed = await hooks.authorize(user, { verb: req.method?.toLowerCase() ?? 'get', apiGroup: '', resource: '', subresource: '', namespace: '', name: '', path, isResourceRequest: false });
      if (!allowed.allowed) throw forbidden(`forbidden: User "${user.username}" cannot ${req.method?.toLowerCase()} path "${path}"`);
      if (req.method !== 'GET') throw methodNotAllowed(`the server does not allow this method on the requested resource`);
      const doc = nonResource(path, req.headers.accept ?? '');
      if (Buffer.isBuffer(doc)) { // protobuf OpenAPI (what kubectl asks for)
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': doc.length }); // Go's mime parser rejects the '@' of the real media type
        res.end(doc);
        return { verb: 'get' };
      }
      send(res, 200, doc);
      return { verb: 'get' };
    }
    const info = store.resources.find(rp.group, rp.version, rp.plural);
    if (!info) throw new ApiError(404, 'NotFound', `the server could not find the requested resource`, { group: rp.group, kind: rp.plural });
    if (rp.namespace && !info.namespaced) throw new ApiError(404, 'NotFound', `the server could not find the requested resource`);
    const watch = queryBool(q, 'watch');
    const verb = verbOf(req.method ?? 'GET', rp, watch);
    const az = await hooks.authorize(user, {
      verb, apiGroup: rp.group, resource: rp.plural, subresource: rp.subresource, namespace: rp.namespace, name: rp.name, path, isResourceRequest: true,
    });
    if (!az.allowed) {
      const what = `resource "${rp.plural}${rp.subresource ? '/' + rp.subresource : ''}" in API group "${rp.group}"`;
      const where = rp.namespace ? ` in the namespace "${rp.namespace}"` : info.namespaced ? '' : ' at the cluster scope';
      const reason = az.reason ? `: ${az.reason}` : '';
      throw new ApiError(403, 'Forbidden', `${rp.plural}${rp.group ? '.' + rp.group : ''}${rp.name ? ` "${rp.name}"` : ''} is forbidden: User "${user.username}" cannot ${verb} ${what}${where}${reason}`,
        { name: rp.name || undefined, group: rp.group, kind: rp.plural });
    }
    await resource(req, res, info, rp, verb, q, user);
    return { verb };
  };

  function nonResource(path: string, accept: string): unknown {
    if (path === '/version') return versionInfo();
    if (path === '/api') return coreVersions();
    if (path === '/apis') return apiGroupList(store.resources);
    if (path === '/openapi/v2' && hooks.openapi) return hooks.openapi(prefersProtobuf(accept) ? 'protobuf' : 'json');
    const m = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(path);
    if (path === '/api/v1') return resourceList(store.resources, '', 'v1');
    if (m) {
      const doc = m[2] ? resourceList(store.resources, m[1], m[2]) : apiGroup(store.resources, m[1]);
      if (doc) return doc;
    }
    throw new ApiError(404, 'NotFound', `the server could not find the requested resource`);
  }

  async function resource(req: IncomingMessage, res: ServerResponse, info: ResourceInfo, rp: ResourcePath, verb: string, q: URLSearchParams, user: UserInfo): Promise<void> {
    const ns = rp.namespace;
    const ctx = { cluster: opts.name, store, user };
    if (rp.subresource && rp.subresource !== 'status') {
      const ct = req.headers['content-type'] ?? '';
      const raw = req.method === 'GET' ? undefined : await readBody(req);
      const builtin = builtinSubresource(store, info, rp.subresource, { method: req.method ?? 'GET', namespace: ns, name: rp.name, contentType: ct, body: raw && !isEmptyBody(raw) ? decodeBody(raw, ct) : undefined });
      if (builtin) { send(res, builtin.code, builtin.body); return; }
      const h = hooks.subresourceHandlers[`${info.plural}/${rp.subresource}`];
      if (!h) throw new ApiError(404, 'NotFound', `the server could not find the requested resource`);
      const body = raw === undefined ? undefined : decodeBody(raw, ct);
      send(res, req.method === 'POST' ? 201 : 200, await h(ctx, { method: req.method ?? 'GET', namespace: ns, name: rp.name, body }));
      return;
    }
    if (rp.subresource === 'status' && !info.subresources?.includes('status'))
      throw new ApiError(404, 'NotFound', `the server could not find the requested resource`);
    if (info.virtual) {
      if (verb !== 'create') throw methodNotAllowed(`the server does not allow this method on the requested resource`);
      const h = hooks.virtualCreate[`${info.group}/${info.plural}`];
      if (!h) throw new ApiError(404, 'NotFound', `the server could not find the requested resource`);
      const body = checkShape(info, decodeBody(await readBody(req), req.headers['content-type'] ?? ''));
      send(res, 201, await h(ctx, body, ns));
      return;
    }
    const asTable = /as=Table/.test(req.headers.accept ?? '');
    switch (verb) {
      case 'get': {
        const o = store.get(info, ns, rp.name);
        send(res, 200, asTable ? table(info, [o]) : o);
        return;
      }
      case 'list': {
        const limit = q.get('limit') ? Number(q.get('limit')) : undefined;
        if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw badRequest(`invalid limit "${q.get('limit')}"`);
        const l = store.list(info, ns, { labelSelector: q.get('labelSelector') ?? undefined, fieldSelector: q.get('fieldSelector') ?? undefined, limit, continue: q.get('continue') ?? undefined });
        if (asTable) {
          const t = table(info, l.items);
          t.metadata = { resourceVersion: l.resourceVersion, ...(l.continue ? { continue: l.continue } : {}) };
          send(res, 200, t);
        } else send(res, 200, listOf(info, l));
        return;
      }
      case 'watch': return startWatch(req, res, info, rp, q, asTable);
      case 'create': {
        const raw = decodeBody(await readBody(req), req.headers['content-type'] ?? '');
        const body = checkShape(info, raw);
        if (dryRun(q)) { send(res, 201, body); return; }
        body.metadata.managedFields = recordUpdate(undefined, body, managerOf(q.get('fieldManager'), req.headers['user-agent']), apiVersionOf(info), nowStamp(), '', listKeysOf(info));
        send(res, 201, store.create(info, ns, body));
        return;
      }
      case 'update': {
        const body = checkShape(info, decodeBody(await readBody(req), req.headers['content-type'] ?? ''));
        if (info.namespaced && body.metadata.namespace && body.metadata.namespace !== ns)
          throw badRequest(`the namespace of the provided object (${body.metadata.namespace}) does not match the namespace sent on the request (${ns})`);
        const existed = exists(info, ns, rp.name);
        const prev = existed ? store.get(info, ns, rp.name) : undefined;
        body.metadata.managedFields = recordUpdate(prev, body, managerOf(q.get('fieldManager'), req.headers['user-agent']), apiVersionOf(info), nowStamp(), rp.subresource, listKeysOf(info));
        const out = store.update(info, ns, rp.name, body, { subresource: rp.subresource, createIfMissing: CREATE_ON_UPDATE.has(info.plural) && !rp.subresource });
        send(res, existed ? 200 : 201, out);
        return;
      }
      case 'patch': return patch(req, res, info, rp, q);
      case 'delete': {
        let pre: { resourceVersion?: string; uid?: string } = {};
        const raw = await readBody(req);
        if (!isEmptyBody(raw)) { // DeleteOptions: JSON, or protobuf from typed clients (kubectl drain)
          const d = decodeBody(raw, req.headers['content-type'] || 'application/json') as { preconditions?: { resourceVersion?: string; uid?: string } };
          pre = d?.preconditions ?? {};
        }
        const gone = store.delete(info, ns, rp.name, pre);
        // kube-apiserver answers a graceful delete (pods, namespaces) with the object and an immediate one with a Status.
        if (info.group === '' && (info.plural === 'pods' || info.plural === 'namespaces')) {
          gone.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
          if (info.plural === 'namespaces') gone.status = { phase: 'Terminating' };
          send(res, 200, gone);
        } else {
          send(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: rp.name, group: info.group || undefined, kind: info.plural, uid: gone.metadata.uid } });
        }
        return;
      }
      case 'deletecollection': {
        store.deleteCollection(info, ns, { labelSelector: q.get('labelSelector') ?? undefined, fieldSelector: q.get('fieldSelector') ?? undefined });
        send(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200 });
        return;
      }
      default: throw methodNotAllowed(`the server does not allow this method on the requested resource`);
    }
  }

  function exists(info: ResourceInfo, ns: string, name: string): boolean {
    try { store.get(info, ns, name); return true; } catch { return false; }
  }
  const dryRun = (q: URLSearchParams) => q.get('dryRun') === 'All';

  function table(info: ResourceInfo, objs: KubeObject[]) {
    return (hooks.toTable ?? defaultHooks('').toTable!)(info, objs);
  }

  async function patch(req: IncomingMessage, res: ServerResponse, info: ResourceInfo, rp: ResourcePath, q: URLSearchParams): Promise<void> {
    const ct = (req.headers['content-type'] ?? '').split(';')[0].trim();
    const text = await readBody(req);
    const ns = rp.namespace;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    if (ct === 'application/apply-patch+yaml') {
      const manager = q.get('fieldManager');
      if (!manager) throw new ApiError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch', { causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }] });
      const config = checkShape(info, decodeBody(text, 'application/yaml'));
      if (config.metadata.name && config.metadata.name !== rp.name) throw badRequest(`the name of the object (${config.metadata.name}) does not match the name on the URL (${rp.name})`);
      config.metadata.name = rp.name;
      const force = queryBool(q, 'force');
      const cur = exists(info, ns, rp.name) ? store.get(info, ns, rp.name) : undefined;
      const r = serverSideApply(cur, config, manager, force, apiVersionOf(info), now, listKeysOf(info));
      r.object.metadata.managedFields = r.managedFields;
      if (!cur) { send(res, 201, store.create(info, ns, r.object)); return; }
      r.object.metadata.resourceVersion = cur.metadata.resourceVersion;
      send(res, 200, store.update(info, ns, rp.name, r.object, { subresource: rp.subresource }));
      return;
    }
    const doc = decodeBody(text, 'application/json');
    const out = store.mutate(info, ns, rp.name, (cur) => {
      const curJson = cur as unknown as Json;
      let next: unknown;
      if (ct === 'application/merge-patch+json') next = mergePatch(curJson, doc as Json);
      else if (ct === 'application/json-patch+json') next = jsonPatch(curJson, doc);
      else if (ct === 'application/strategic-merge-patch+json') {
        if (info.custom || (info.group !== '' && !['apps', 'policy', 'discovery.k8s.io', 'coordination.k8s.io', 'rbac.authorization.k8s.io', 'events.k8s.io'].includes(info.group)))
          throw new ApiError(415, 'UnsupportedMediaType', `strategic merge patch is not supported for ${info.plural}.${info.group}; use a merge patch or JSON patch`);
        next = strategicMergePatch(curJson, doc as Json);
      } else throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`);
      const shaped = checkShape(info, next);
      // A patch that sets resourceVersion is a precondition; otherwise it applies to the current object.
      shaped.metadata.resourceVersion = shaped.metadata.resourceVersion ?? cur.metadata.resourceVersion;
      shaped.metadata.managedFields = recordUpdate(cur, shaped, managerOf(q.get('fieldManager'), req.headers['user-agent']), apiVersionOf(info), now, rp.subresource, listKeysOf(info));
      return shaped;
    }, { subresource: rp.subresource });
    send(res, 200, out);
  }

  function startWatch(req: IncomingMessage, res: ServerResponse, info: ResourceInfo, rp: ResourcePath, q: URLSearchParams, asTable: boolean): void {
    const sel = (o: unknown) => o;
    void sel;
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const write = (e: WatchEvent) => {
      const obj = asTable && e.type !== 'ERROR' && e.type !== 'BOOKMARK' ? table(info, [e.object as KubeObject]) : e.object;
      res.write(JSON.stringify({ type: e.type, object: obj }) + '\n');
    };
    let cancel: (() => void) | undefined;
    const timers: NodeJS.Timeout[] = [];
    const stop = () => {
      cancel?.();
      timers.forEach(clearTimeout);
      timers.forEach(clearInterval);
      watches.delete(stop);
      if (!res.writableEnded) res.end();
    };
    watches.add(stop);
    req.on('close', stop);
    res.on('close', stop);
    const fieldSelector = rp.name ? [q.get('fieldSelector'), `metadata.name=${rp.name}`].filter(Boolean).join(',') : q.get('fieldSelector') ?? undefined;
    try {
      cancel = store.watch(info, rp.namespace, { labelSelector: q.get('labelSelector') ?? undefined, fieldSelector, resourceVersion: q.get('resourceVersion') ?? undefined }, write, stop);
    } catch (e) {
      if (e instanceof ApiError) { write({ type: 'ERROR', object: e.toStatus() as unknown as Record<string, unknown> }); stop(); return; }
      throw e;
    }
    const timeout = Number(q.get('timeoutSeconds') ?? 0);
    const maxTimeout = 1800 + Math.floor(Math.random() * 1800);
    timers.push(setTimeout(stop, (timeout > 0 ? timeout : maxTimeout) * 1000));
    if (queryBool(q, 'allowWatchBookmarks')) {
      timers.push(setInterval(() => write({ type: 'BOOKMARK', object: { kind: info.kind, apiVersion: apiVersionOf(info), metadata: { resourceVersion: store.currentResourceVersion() } } }), bookmarkMs));
    }
  }

  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    handle(req, res).then(
      ({ verb }) => requests?.inc({ cluster: opts.name, verb, code: String(res.statusCode) }),
      (err: unknown) => {
        const e = err instanceof ApiError ? err : new ApiError(500, 'InternalError', `Internal error occurred: ${(err as Error).message}`);
        if (e.code >= 500) log.error({ err, cluster: opts.name, url: req.url }, 'internal error');
        send(res, e.code, e.toStatus());
        requests?.inc({ cluster: opts.name, verb: req.method ?? '', code: String(e.code) });
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  for (const c of hooks.controllers) await c.start(store);
  // every TCP connection, also those that are no HTTP request yet (a TLS handshake under way): setReachable(false)
  // must drop them all, or server.close() waits for them and `dev failover` hangs
  const sockets = new Set<Socket>();
  server.on('connection', (sock: Socket) => { sockets.add(sock); sock.once('close', () => sockets.delete(sock)); });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host ?? '127.0.0.1';
  log.info({ cluster: opts.name, port }, 'devcluster apiserver listening');
  return {
    name: opts.name, url: `https://${host}:${port}`, port, ca: tls.ca, adminToken, store, hooks,
    closeWatches: () => { for (const s of [...watches]) s(); },
    setReachable: async (reachable: boolean) => {
      if (reachable === server.listening) return;
      if (!reachable) {
        for (const s of [...watches]) s();
        const closed = new Promise<void>((r) => server.close(() => r()));
        server.closeAllConnections();
        for (const sock of sockets) sock.destroy();
        await closed;
        return;
      }
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => { server.off('error', reject); resolve(); });
      });
    },
    close: async () => {
      for (const c of hooks.controllers) await c.stop();
      for (const s of [...watches]) s();
      store.close();
      if (!server.listening) return;
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** A kubeconfig (YAML-compatible JSON) for one server with the admin token. */
export function kubeconfigFor(servers: Array<Pick<ApiServer, 'name' | 'url' | 'ca' | 'adminToken'>>, current?: string): string {
  const cfg = {
    apiVersion: 'v1', kind: 'Config', preferences: {},
    clusters: servers.map((s) => ({ name: s.name, cluster: { server: s.url, 'certificate-authority-data': Buffer.from(s.ca).toString('base64') } })),
    users: servers.map((s) => ({ name: `${s.name}-admin`, user: { token: s.adminToken } })),
    contexts: servers.map((s) => ({ name: s.name, context: { cluster: s.name, user: `${s.name}-admin`, namespace: 'default' } })),
    'current-context': current ?? servers[0]?.name ?? '',
  };
  return JSON.stringify(cfg, null, 2) + '\n';
}

export { notFound };
