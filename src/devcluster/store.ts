// In-memory object store of one cluster: resourceVersions, optimistic concurrency, selectors,
// pagination, watch with bounded history, namespace cascade, ClusterIP allocation, optional persistence.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject, ManagedFieldsEntry, ResourceInfo } from './types.ts';
import { ObjectIndex } from './objectIndex.ts';
import { ResourceTable, apiVersionOf, resourceKey, resourcesFromCrd, type CrdSpec } from './resources.ts';
import { alreadyExists, badRequest, conflict, gone, invalid, notFound } from './errors.ts';
import { fieldsOf, matches, parseFieldSelector, parseSelector } from './selectors.ts';
import { validateObject } from './validate.ts';
import { ClusterIpAllocator } from './ipalloc.ts';
import { jsonPatch, mergePatch, strategicMergePatch, type Json } from './patch.ts';
import { allocateClusterIp, allowsUnconditionalUpdate, checkCrd, keepClusterIp, normalizeSecret, releaseClusterIp, tracksGeneration } from './kindRules.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export interface WatchEvent { type: WatchEventType | 'BOOKMARK' | 'ERROR'; object: KubeObject | Record<string, unknown> }
interface HistoryEntry { rv: number; key: string; type: WatchEventType; obj: KubeObject; old?: KubeObject }

export interface ListOptions { labelSelector?: string; fieldSelector?: string; limit?: number; continue?: string }
export interface WatchOptions { labelSelector?: string; fieldSelector?: string; resourceVersion?: string }
export interface StoreOptions { dataDir?: string; historySize?: number; serviceCidr?: string }

interface Watcher { key: string; namespace: string; label: ReturnType<typeof parseSelector>; field: ReturnType<typeof parseSelector>; cb: (e: WatchEvent) => void; onEnd?: () => void }

const clone = <T>(o: T): T => structuredClone(o);
/** JSON with sorted keys and undefined dropped: equal content → equal text. */
const canonical = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) =>
  x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x);
const withoutTimes = (mf: ManagedFieldsEntry[] | undefined) => mf?.map(({ time: _t, ...rest }) => rest);
const specOf = (o: KubeObject) => JSON.stringify(o.spec ?? null);
const objKey = (info: ResourceInfo, ns: string, name: string) => `${resourceKey(info.group, info.plural)}|${info.namespaced ? ns : ''}|${name}`;

export class Store {
  readonly resources = new ResourceTable();
  private objects = new ObjectIndex();
  private rv = 0;
  private history: HistoryEntry[] = [];
  private compactedRv = 0; // events with rv <= compactedRv are no longer replayable
  private watchers = new Set<Watcher>();
  private readonly historySize: number;
  private readonly ips: ClusterIpAllocator;
  private persistTimer: NodeJS.Timeout | undefined;

  constructor(readonly cluster: string, private readonly opts: StoreOptions = {}) {
    this.historySize = opts.historySize ?? 1000;
    this.ips = new ClusterIpAllocator(opts.serviceCidr ?? '10.96.0.0/16');
    if (opts.dataDir && existsSync(this.dataFile())) this.load();
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      if (!this.objects.has(objKey(this.info('', 'namespaces'), '', ns)))
        this.create(this.info('', 'namespaces'), '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    }
  }

  info(group: string, plural: string): ResourceInfo {
    const i = this.resources.byKey(group, plural);
    if (!i) throw notFound(group, plural, '');
    return i;
  }

  currentResourceVersion(): string { return String(this.rv); }

  get(info: ResourceInfo, ns: string, name: string): KubeObject {
    const o = this.objects.get(objKey(info, ns, name));
    if (!o) throw notFound(info.group, info.plural, name);
    return this.present(info, o);
  }

  list(info: ResourceInfo, ns: string, opts: ListOptions = {}): { items: KubeObject[]; resourceVersion: string; continue?: string; remainingItemCount?: number } {
    const label = parseSelector(opts.labelSelector);
    const field = parseFieldSelector(opts.fieldSelector);
    const order = (o: KubeObject) => (o.metadata.namespace ?? '') + '/' + o.metadata.name;
    let items = [...this.objects.ofResource(resourceKey(info.group, info.plural))]
      .filter(([, o]) => !ns || !info.namespaced || o.metadata.namespace === ns)
      .map(([, o]) => o)
      .filter((o) => matches(label, o.metadata.labels ?? {}) && matches(field, fieldsOf(o)))
      .sort((a, b) => { const x = order(a); const y = order(b); return x < y ? -1 : x > y ? 1 : 0; });
    let listRv = this.rv;
    if (opts.continue) {
      let tok: { rv: number; start: string };
      try { tok = JSON.parse(Buffer.from(opts.continue, 'base64url').toString('utf8')); } catch { throw badRequest('invalid continue token'); }
      if (typeof tok?.start !== 'string') throw badRequest('invalid continue token');
      listRv = tok.rv;
      items = items.filter((o) => (o.metadata.namespace ?? '') + '/' + o.metadata.name > tok.start);
    }
    const result: ReturnType<Store['list']> = { items: [], resourceVersion: String(listRv) };
    if (opts.limit && opts.limit > 0 && items.length > opts.limit) {
      const page = items.slice(0, opts.limit);
      const last = page[page.length - 1];
      result.continue = Buffer.from(JSON.stringify({ rv: listRv, start: (last.metadata.namespace ?? '') + '/' + last.metadata.name })).toString('base64url');
      result.remainingItemCount = items.length - opts.limit;
      items = page;
    }
    result.items = items.map((o) => this.present(info, o));
    return result;
  }

  create(info: ResourceInfo, ns: string, input: KubeObject): KubeObject {
    const obj = clone(input);
    obj.apiVersion = apiVersionOf(info);
    obj.kind = info.kind;
    const md = obj.metadata ?? (obj.metadata = {});
    if (info.namespaced) {
      if (md.namespace && ns && md.namespace !== ns)
        throw badRequest(`the namespace of the provided object (${md.namespace}) does not match the namespace sent on the request (${ns})`);
      md.namespace = ns || md.namespace || 'default';
      if (!this.objects.has(objKey(this.info('', 'namespaces'), '', md.namespace)))
        throw notFound('', 'namespaces', md.namespace);
    } else delete md.namespace;
    if (!md.name && md.generateName) md.name = md.generateName + randomUUID().replace(/-/g, '').slice(0, 5);
    validateObject(info, obj);
    const key = objKey(info, md.namespace ?? '', md.name!);
    if (this.objects.has(key)) throw alreadyExists(info.group, info.plural, md.name!);
    if (info.kind === 'CustomResourceDefinition') checkCrd(obj);
    if (info.kind === 'Secret' && info.group === '') normalizeSecret(obj);
    if (info.kind === 'Service' && info.group === '') allocateClusterIp(this.ips, obj);
    md.uid = randomUUID();
    md.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    if (tracksGeneration(info)) md.generation = 1; else delete md.generation;
    delete md.resourceVersion;
    delete md.deletionTimestamp;
    if (info.kind === 'Namespace' && info.group === '') {
      obj.spec = { finalizers: ['kubernetes'], ...((obj.spec as object) ?? {}) };
      obj.status = { phase: 'Active' };
    }
    this.commit(key, 'ADDED', obj);
    if (info.kind === 'CustomResourceDefinition') this.registerCrd(obj);
    return this.present(info, obj);
  }

  /** Replace an object. A set metadata.resourceVersion must match (optimistic concurrency); `subresource: 'status'` only changes status. */
  update(info: ResourceInfo, ns: string, name: string, input: KubeObject, opts: { subresource?: string; createIfMissing?: boolean } = {}): KubeObject {
    const key = objKey(info, ns, name);
    const cur = this.objects.get(key);
    if (!cur) {
      if (opts.createIfMissing) return this.create(info, ns, { ...input, metadata: { ...input.metadata, name } });
      throw notFound(info.group, info.plural, name);
    }
    const obj = clone(input);
    obj.metadata = obj.metadata ?? {};
    if (obj.metadata.name !== undefined && obj.metadata.name !== name)
      throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    const wantRv = obj.metadata.resourceVersion;
    // kube-apiserver replaces most kinds unconditionally when no resourceVersion is given; a Lease never
    // (its strategy's AllowUnconditionalUpdate is false): two leader candidates must not overwrite each other
    if (!wantRv && !allowsUnconditionalUpdate(info))
      throw invalid(info.kind, info.group, name, [{ field: 'metadata.resourceVersion', message: 'Invalid value: 0x0: must be specified for an update' }]);
    if (wantRv && wantRv !== cur.metadata.resourceVersion)
      throw conflict(info.group, info.plural, name, 'the object has been modified; please apply your changes to the latest version and try again');
    let next: KubeObject;
    if (opts.subresource === 'status') next = { ...clone(cur), status: obj.status };
    else {
      next = { ...obj, apiVersion: apiVersionOf(info), kind: info.kind };
      if (cur.status !== undefined && info.subresources?.includes('status')) next.status = clone(cur.status);
      next.metadata = {
        ...obj.metadata, name, uid: cur.metadata.uid, creationTimestamp: cur.metadata.creationTimestamp,
        generation: cur.metadata.generation, deletionTimestamp: cur.metadata.deletionTimestamp,
      };
      if (info.namespaced) next.metadata.namespace = cur.metadata.namespace; else delete next.metadata.namespace;
      if (next.metadata.deletionTimestamp === undefined) delete next.metadata.deletionTimestamp;
      validateObject(info, next);
      if (info.kind === 'Service' && info.group === '') keepClusterIp(cur, next);
      if (info.kind === 'CustomResourceDefinition') checkCrd(next);
      if (info.kind === 'Secret' && info.group === '') normalizeSecret(next);
    }
    if (!tracksGeneration(info)) delete next.metadata.generation;
    else if (specOf(next) !== specOf(cur)) next.metadata.generation = (cur.metadata.generation ?? 1) + 1;
    delete next.metadata.resourceVersion;
    // no-op update (as kube-apiserver): no new resourceVersion, no event. Key order and the managedFields
    // timestamps of a repeated apply do not make a change.
    if (canonical({ ...next, metadata: { ...next.metadata, managedFields: undefined } }) ===
        canonical({ ...cur, metadata: { ...cur.metadata, resourceVersion: undefined, managedFields: undefined } }) &&
        canonical(withoutTimes(next.metadata.managedFields)) === canonical(withoutTimes(cur.metadata.managedFields)))
      return this.present(info, cur);
    this.commit(key, 'MODIFIED', next, cur);
    if (info.kind === 'CustomResourceDefinition') this.registerCrd(next);
    return this.present(info, next);
  }

  /** Read-modify-write with a function (used for patches and by controllers). */
  mutate(info: ResourceInfo, ns: string, name: string, fn: (cur: KubeObject) => KubeObject, opts: { subresource?: string } = {}): KubeObject {
    const cur = this.get(info, ns, name);
    const next = fn(clone(cur));
    next.metadata = { ...next.metadata, resourceVersion: next.metadata?.resourceVersion ?? cur.metadata.resourceVersion };
    return this.update(info, ns, name, next, opts);
  }

  /** Patch in-process: 'merge' (RFC 7386), 'json' (RFC 6902) or 'strategic'. */
  patch(info: ResourceInfo, ns: string, name: string, type: 'merge' | 'json' | 'strategic', body: unknown, opts: { subresource?: string } = {}): KubeObject {
    return this.mutate(info, ns, name, (cur) => {
      const doc = cur as unknown as Json;
      const next = type === 'json' ? jsonPatch(doc, body) : type === 'strategic' ? strategicMergePatch(doc, body as Json) : mergePatch(doc, body as Json);
      return next as unknown as KubeObject;
    }, opts);
  }

  delete(info: ResourceInfo, ns: string, name: string, opts: { resourceVersion?: string; uid?: string } = {}): KubeObject {
    const key = objKey(info, ns, name);
    const cur = this.objects.get(key);
    if (!cur) throw notFound(info.group, info.plural, name);
    if (opts.resourceVersion && opts.resourceVersion !== cur.metadata.resourceVersion)
      throw conflict(info.group, info.plural, name, `Precondition failed: ResourceVersion in precondition: ${opts.resourceVersion}, ResourceVersion in object meta: ${cur.metadata.resourceVersion}`);
    if (opts.uid && opts.uid !== cur.metadata.uid)
      throw conflict(info.group, info.plural, name, `Precondition failed: UID in precondition: ${opts.uid}, UID in object meta: ${cur.metadata.uid}`);
    if (info.kind === 'Namespace' && info.group === '') this.deleteNamespaceContents(name);
    if (info.kind === 'Service' && info.group === '') releaseClusterIp(this.ips, cur);
    if (info.kind === 'CustomResourceDefinition') this.unregisterCrd(cur);
    this.objects.delete(key);
    const gone = clone(cur);
    this.commit(key, 'DELETED', gone, undefined, false);
    return this.present(info, gone);
  }

  deleteCollection(info: ResourceInfo, ns: string, opts: ListOptions = {}): KubeObject[] {
    return this.list(info, ns, { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector })
      .items.map((o) => this.delete(info, o.metadata.namespace ?? '', o.metadata.name!));
  }

  /**
   * Watch one resource (optionally one namespace). `resourceVersion` N replays events after N;
   * unset or "0" starts with ADDED for every current object. Throws 410 Gone when N is older than the history.
   */
  watch(info: ResourceInfo, ns: string, opts: WatchOptions, cb: (e: WatchEvent) => void, onEnd?: () => void): () => void {
    const w: Watcher = {
      key: resourceKey(info.group, info.plural), namespace: info.namespaced ? ns : '',
      label: parseSelector(opts.labelSelector), field: parseFieldSelector(opts.fieldSelector), cb, onEnd,
    };
    const rvStr = opts.resourceVersion;
    let replay: WatchEvent[];
    if (!rvStr || rvStr === '0') {
      replay = this.list(info, ns, { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector }).items.map((o) => ({ type: 'ADDED' as const, object: o }));
    } else {
      const n = Number(rvStr);
      if (!Number.isInteger(n) || n < 0) throw badRequest(`invalid resourceVersion "${rvStr}"`);
      if (n < this.compactedRv) throw gone(`too old resource version: ${n} (${this.compactedRv})`);
      replay = [];
      for (const h of this.history) if (h.rv > n) { const e = this.toEvent(w, h, info); if (e) replay.push(e); }
    }
    for (const e of replay) cb(e);
    this.watchers.add(w);
    return () => { this.watchers.delete(w); };
  }

  /** Drop the whole watch history (tests use this to force 410 Gone). */
  compact(): void {
    this.compactedRv = this.rv;
    this.history = [];
  }

  close(): void {
    this.watchers.clear();
    if (this.persistTimer) { clearTimeout(this.persistTimer); this.persistTimer = undefined; this.persist(); }
  }

  // ---- internals ----

  private present(info: ResourceInfo, o: KubeObject): KubeObject {
    const c = clone(o);
    c.apiVersion = apiVersionOf(info);
    return c;
  }

  private commit(key: string, type: WatchEventType, obj: KubeObject, old?: KubeObject, store = true): void {
    this.rv += 1;
    obj.metadata.resourceVersion = String(this.rv);
    if (store) this.objects.set(key, obj);
    const h: HistoryEntry = { rv: this.rv, key: key.split('|')[0], type, obj: clone(obj), old: old && clone(old) };
    this.history.push(h);
    if (this.history.length > this.historySize) this.compactedRv = this.history.shift()!.rv;
    for (const w of [...this.watchers]) {
      if (w.key !== h.key) continue;
      const info = this.resources.byKey(...splitKey(h.key));
      if (!info) continue;
      const e = this.toEvent(w, h, info);
      if (e) {
        try { w.cb(e); } catch { this.watchers.delete(w); }
      }
    }
    this.schedulePersist();
  }

  private toEvent(w: Watcher, h: HistoryEntry, info: ResourceInfo): WatchEvent | undefined {
    if (h.key !== w.key) return undefined;
    if (w.namespace && h.obj.metadata.namespace !== w.namespace) return undefined;
    const sel = (o: KubeObject | undefined) => !!o && matches(w.label, o.metadata.labels ?? {}) && matches(w.field, fieldsOf(o));
    const now = sel(h.obj);
    if (h.type === 'MODIFIED') {
      const before = sel(h.old);
      if (now && !before) return { type: 'ADDED', object: this.present(info, h.obj) };
      if (!now && before) return { type: 'DELETED', object: this.present(info, h.obj) };
    }
    return now ? { type: h.type, object: this.present(info, h.obj) } : undefined;
  }

  private deleteNamespaceContents(ns: string): void {
    for (const [k, o] of [...this.objects.entries()]) {
      const [rk, kns, name] = k.split('|');
      if (kns !== ns || !o.metadata.namespace) continue;
      const info = this.resources.byKey(...splitKey(rk));
      if (info) this.delete(info, ns, name);
    }
  }

  private registerCrd(obj: KubeObject): void {
    this.resources.setCrd(obj.metadata.name!, resourcesFromCrd(obj.spec as CrdSpec));
    const spec = obj.spec as CrdSpec;
    obj.status = {
      conditions: [{ type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: obj.metadata.creationTimestamp }],
      acceptedNames: spec.names, storedVersions: spec.versions.filter((v) => v.storage).map((v) => v.name),
    };
    this.objects.set(objKey(this.info('apiextensions.k8s.io', 'customresourcedefinitions'), '', obj.metadata.name!), obj);
  }
  private unregisterCrd(obj: KubeObject): void {
    const spec = obj.spec as CrdSpec;
    const info = this.resources.byKey(spec.group, spec.names.plural);
    if (info) for (const o of this.list(info, '').items) this.delete(info, o.metadata.namespace ?? '', o.metadata.name!);
    this.resources.removeCrd(obj.metadata.name!);
    // the resource no longer exists: end its watches (clients see the stream close, then 404 on relist)
    const key = resourceKey(spec.group, spec.names.plural);
    for (const w of [...this.watchers]) if (w.key === key) { this.watchers.delete(w); w.onEnd?.(); }
  }

  private dataFile(): string { return join(this.opts.dataDir!, `${this.cluster}.json`); }
  private schedulePersist(): void {
    if (!this.opts.dataDir || this.persistTimer) return;
    this.persistTimer = setTimeout(() => { this.persistTimer = undefined; this.persist(); }, 50);
    this.persistTimer.unref();
  }
  /** Write the whole store atomically (temp file + rename). */
  persist(): void {
    if (!this.opts.dataDir) return;
    mkdirSync(this.opts.dataDir, { recursive: true });
    const tmp = this.dataFile() + '.tmp';
    writeFileSync(tmp, JSON.stringify({ version: 1, resourceVersion: this.rv, objects: [...this.objects.entries()] }));
    renameSync(tmp, this.dataFile());
  }
  private load(): void {
    const file = this.dataFile();
    let data: { resourceVersion: number; objects: [string, KubeObject][] };
    try { data = JSON.parse(readFileSync(file, 'utf8')); } catch (e) {
      throw new Error(`cannot read devcluster data file ${file}: ${(e as Error).message}; move it away to start empty`);
    }
    this.rv = data.resourceVersion;
    this.compactedRv = this.rv;
    this.objects = new ObjectIndex(data.objects);
    for (const [k, o] of this.objects) {
      if (k.startsWith('apiextensions.k8s.io/customresourcedefinitions|')) this.resources.setCrd(o.metadata.name!, resourcesFromCrd(o.spec as CrdSpec));
      if (k.startsWith('/services|')) { const ip = (o.spec as Record<string, unknown>)?.clusterIP; if (typeof ip === 'string') this.ips.claim(ip); }
    }
  }
}

function splitKey(k: string): [string, string] {
  const i = k.lastIndexOf('/');
  return [k.slice(0, i), k.slice(i + 1)];
}
