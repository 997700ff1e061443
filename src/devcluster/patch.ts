// Pure patch algorithms: JSON merge patch (RFC 7386), JSON patch (RFC 6902), strategic merge patch
// (for the built-in list keys kubectl relies on) and server-side apply field ownership.
import { badRequest, ApiError } from './errors.ts';
import type { KubeObject, ManagedFieldsEntry, ResourceInfo } from './types.ts';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObj(patch)) return patch;
  const out: Obj = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function unescape(tok: string): string { return tok.replace(/~1/g, '/').replace(/~0/g, '~'); }
function parsePointer(p: unknown): string[] {
  if (typeof p !== 'string' || (p !== '' && !p.startsWith('/'))) throw badRequest(`invalid JSON pointer ${JSON.stringify(p)}`);
  return p === '' ? [] : p.slice(1).split('/').map(unescape);
}

export function jsonPatch(doc: Json, ops: unknown): Json {
  if (!Array.isArray(ops)) throw badRequest('a JSON patch must be a list of operations');
  let root: Json = structuredClone(doc);
  const parentOf = (path: string[]): { parent: Json; key: string } => {
    let cur: Json = root;
    for (const t of path.slice(0, -1)) {
      if (Array.isArray(cur)) cur = cur[Number(t)];
      else if (isObj(cur)) cur = cur[t];
      else throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: path ${'/' + path.join('/')} does not exist`);
      if (cur === undefined) throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: path /${path.join('/')} does not exist`);
    }
    return { parent: cur, key: path[path.length - 1] };
  };
  const getAt = (path: string[]): Json => {
    if (!path.length) return root;
    const { parent, key } = parentOf(path);
    const v = Array.isArray(parent) ? parent[Number(key)] : isObj(parent) ? parent[key] : undefined;
    if (v === undefined) throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: path /${path.join('/')} does not exist`);
    return v;
  };
  const remove = (path: string[]): Json => {
    const v = getAt(path);
    const { parent, key } = parentOf(path);
    if (Array.isArray(parent)) parent.splice(Number(key), 1); else delete (parent as Obj)[key];
    return v;
  };
  const add = (path: string[], value: Json) => {
    if (!path.length) { root = value; return; }
    const { parent, key } = parentOf(path);
    if (Array.isArray(parent)) {
      const i = key === '-' ? parent.length : Number(key);
      if (!Number.isInteger(i) || i < 0 || i > parent.length) throw new ApiError(422, 'Invalid', `index ${key} out of range`);
      parent.splice(i, 0, value);
    } else if (isObj(parent)) parent[key] = value;
    else throw new ApiError(422, 'Invalid', `path /${path.join('/')} does not exist`);
  };
  for (const op of ops as Array<Record<string, unknown>>) {
    const path = parsePointer(op?.path);
    switch (op?.op) {
      case 'add': add(path, structuredClone(op.value as Json)); break;
      case 'remove': remove(path); break;
      case 'replace': remove(path); add(path, structuredClone(op.value as Json)); break;
      case 'move': { const v = remove(parsePointer(op.from)); add(path, v); break; }
      case 'copy': add(path, structuredClone(getAt(parsePointer(op.from)))); break;
      case 'test':
        if (JSON.stringify(getAt(path)) !== JSON.stringify(op.value))
          throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: testing value /${path.join('/')} failed`);
        break;
      default: throw badRequest(`unknown JSON patch operation ${JSON.stringify(op?.op)}`);
    }
  }
  return root;
}

/**
 * How a kind's lists merge: the merge key of a list field, or undefined for an atomic list (replaced as a whole, owned
 * as one field). Built-in kinds use their patchMergeKey tags (mergeKeyFor); custom resources have atomic lists, as
 * kube-apiserver treats a CRD schema without x-kubernetes-list-type: map (meshfed's CRDs preserve unknown fields).
 */
export type ListKeys = (field: string, sample: Json | undefined) => string | undefined;
export const ATOMIC_LISTS: ListKeys = () => undefined;
export const listKeysOf = (info: Pick<ResourceInfo, 'custom'>): ListKeys => (info.custom ? ATOMIC_LISTS : mergeKeyFor);

/** Merge key of a list field, as the built-in kinds' patchMergeKey tags declare. */
export function mergeKeyFor(field: string, sample: Json | undefined): string | undefined {
  if (['containers', 'initContainers', 'ephemeralContainers', 'env', 'volumes', 'imagePullSecrets', 'resourceClaims', 'rules_'].includes(field)) return 'name';
  if (field === 'volumeMounts') return 'mountPath';
  if (field === 'volumeDevices') return 'devicePath';
  if (field === 'hostAliases') return 'ip';
  if (field === 'topologySpreadConstraints') return 'topologyKey';
  if (field === 'ports' && isObj(sample)) return 'containerPort' in sample ? 'containerPort' : 'port' in sample ? 'port' : undefined;
  if (field === 'conditions') return 'type';
  if (field === 'finalizers' || field === 'ownerReferences') return field === 'ownerReferences' ? 'uid' : undefined;
  return undefined;
}

export function strategicMergePatch(target: Json | undefined, patch: Json, keys: ListKeys = mergeKeyFor): Json {
  if (!isObj(patch)) return patch;
  if (patch.$patch === 'replace') { const { $patch: _r, ...rest } = patch; return rest; }
  const out: Obj = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k.startsWith('$setElementOrder/') || k.startsWith('$deleteFromPrimitiveList/') || k === '$retainKeys') continue;
    if (v === null) { delete out[k]; continue; }
    const cur = out[k];
    if (Array.isArray(v)) {
      const key = keys(k, v.find(isObj) ?? (Array.isArray(cur) ? cur.find(isObj) : undefined));
      if (key && (Array.isArray(cur) || cur === undefined)) {
        const list = Array.isArray(cur) ? [...cur] : [];
        for (const item of v) {
          if (!isObj(item)) continue;
          const idx = list.findIndex((c) => isObj(c) && c[key] === item[key]);
          if (item.$patch === 'delete') { if (idx >= 0) list.splice(idx, 1); continue; }
          if (idx >= 0) list[idx] = strategicMergePatch(list[idx], item, keys);
          else list.push(strategicMergePatch(undefined, item, keys));
        }
        out[k] = list;
      } else out[k] = v.filter((x) => !(isObj(x) && x.$patch === 'delete'));
    } else out[k] = strategicMergePatch(cur, v, keys);
  }
  const dels = Object.entries(patch).filter(([k]) => k.startsWith('$deleteFromPrimitiveList/'));
  for (const [k, v] of dels) {
    const f = k.slice('$deleteFromPrimitiveList/'.length);
    if (Array.isArray(out[f]) && Array.isArray(v)) out[f] = (out[f] as Json[]).filter((x) => !v.includes(x));
  }
  return out;
}

// ---- server-side apply ----

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Leaf paths of an applied configuration, in FieldsV1 notation (`f:spec`, `k:{"name":"x"}`). */
export function fieldPaths(v: Json, prefix: string[] = [], field = '', keys: ListKeys = mergeKeyFor): string[][] {
  if (isObj(v)) {
    const entries = Object.entries(v);
    if (!entries.length) return [prefix];
    return entries.flatMap(([k, c]) => fieldPaths(c, [...prefix, `f:${k}`], k, keys));
  }
  if (Array.isArray(v)) {
    const key = keys(field, v.find(isObj));
    if (key && v.every((i) => isObj(i) && i[key] !== undefined)) return v.flatMap((item) => {
      const p = [...prefix, `k:${JSON.stringify({ [key]: (item as Obj)[key] })}`];
      const rest = Object.fromEntries(Object.entries(item as Obj).filter(([k]) => k !== key));
      return Object.keys(rest).length ? fieldPaths(rest, p, '', keys) : [p];
    });
  }
  return [prefix];
}

export function pathsToFieldsV1(paths: string[][]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const p of paths) {
    let cur = root;
    for (const seg of p) cur = (cur[seg] ??= {}) as Record<string, unknown>;
  }
  return root;
}
export function fieldsV1ToPaths(f: Record<string, unknown>, prefix: string[] = []): string[][] {
  const entries = Object.entries(f).filter(([k]) => k !== '.');
  if (!entries.length) return [prefix];
  return entries.flatMap(([k, c]) => fieldsV1ToPaths(c as Record<string, unknown>, [...prefix, k]));
}

function valueAt(obj: Json | undefined, path: string[]): Json | undefined {
  let cur: Json | undefined = obj;
  for (const seg of path) {
    if (seg.startsWith('f:') && isObj(cur)) cur = cur[seg.slice(2)];
    else if (seg.startsWith('k:') && Array.isArray(cur)) {
      const want = Object.entries(JSON.parse(seg.slice(2)) as Obj);
      cur = want.length ? cur.find((i) => isObj(i) && want.every(([k, val]) => i[k] === val)) : undefined;
    } else return undefined;
  }
  return cur;
}

const IGNORED = new Set(['f:apiVersion', 'f:kind']);
const isManagedPath = (p: string[]) => p.length > 0 && !IGNORED.has(p[0]) && !(p[0] === 'f:metadata' && ['f:name', 'f:namespace', 'f:resourceVersion', 'f:managedFields', 'f:uid', 'f:creationTimestamp', 'f:generation'].includes(p[1]));

export interface ApplyResult { object: KubeObject; managedFields: ManagedFieldsEntry[] }

/**
 * Server-side apply of `config` by `manager` onto `current` (undefined when creating).
 * Throws 409 Conflict naming each field another manager owns with a different value, unless `force`.
 */
export function serverSideApply(current: KubeObject | undefined, config: KubeObject, manager: string, force: boolean, apiVersion: string, now: string, keys: ListKeys = mergeKeyFor): ApplyResult {
  const applied = fieldPaths(config as unknown as Json, [], '', keys).filter(isManagedPath);
  // kube-apiserver's lastAppliedManager: when `kubectl apply --server-side` (manager "kubectl") follows a client-side
  // apply, conflicts on fields of the last-applied-configuration annotation are forced: kubectl takes them over.
  const takeOver = new Set<string>();
  const lastApplied = current?.metadata.annotations?.[LAST_APPLIED];
  if (manager === 'kubectl' && lastApplied) {
    try { for (const p of fieldPaths(JSON.parse(lastApplied) as Json, [], '', keys)) takeOver.add(p.join('\u0000')); } catch { /* not JSON: nothing to take over */ }
  }
  const managed = structuredClone(current?.metadata.managedFields ?? []);
  const conflicts: string[] = [];
  for (const m of managed) {
    if (m.manager === manager && m.operation === 'Apply') continue;
    const owned = new Set(fieldsV1ToPaths(m.fieldsV1).map((p) => p.join('\u0000')));
    for (const p of applied) {
      if (!owned.has(p.join('\u0000'))) continue;
      if (JSON.stringify(valueAt(current as unknown as Json, p)) === JSON.stringify(valueAt(config as unknown as Json, p))) continue;
      if (force || takeOver.has(p.join('\u0000'))) {
        owned.delete(p.join('\u0000'));
        m.fieldsV1 = pathsToFieldsV1([...owned].map((s) => s.split('\u0000')));
      } else conflicts.push(`conflict with "${m.manager}"${m.operation === 'Update' ? ' using ' + m.apiVersion : ''}: .${p.map((s) => (s.startsWith('f:') ? s.slice(2) : `[${s.slice(2)}]`)).join('.').replace(/\.\[/g, '[')}`);
    }
  }
  if (conflicts.length) {
    throw new ApiError(409, 'Conflict', `Apply failed with ${conflicts.length} conflict${conflicts.length > 1 ? 's' : ''}: ${conflicts.join('\n')}`, {
      causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: c.split(': ')[0], field: c.split(': ')[1] })),
    });
  }
  // Fields this manager applied before but no longer applies, and nobody else owns, are removed; so are list items
  // (`k:` keys, e.g. a Service port) it applied before, no longer applies, and nobody else owns anything in, as
  // structured-merge-diff's prune does.
  let base: Json = structuredClone((current ?? { apiVersion: config.apiVersion, kind: config.kind, metadata: {} }) as unknown as Json);
  const mine = managed.find((m) => m.manager === manager && m.operation === 'Apply');
  if (mine && current) {
    const appliedNow = new Set(applied.map((p) => p.join('\u0000')));
    const otherPaths = managed.filter((m) => m !== mine).flatMap((m) => fieldsV1ToPaths(m.fieldsV1));
    const others = new Set(otherPaths.map((p) => p.join('\u0000')));
    const claimed = (item: string[]) => [...applied, ...otherPaths].some((p) => p.length >= item.length && item.every((s, i) => p[i] === s));
    const itemsGone = new Set<string>();
    for (const p of fieldsV1ToPaths(mine.fieldsV1)) {
      const k = p.join('\u0000');
      const firstItem = p.findIndex((s) => s.startsWith('k:'));
      if (firstItem >= 0) {
        const item = p.slice(0, firstItem + 1);
        const ik = item.join('\u0000');
        if (itemsGone.has(ik) || claimed(item)) continue;
        itemsGone.add(ik);
        base = removeItem(base, item);
        continue;
      }
      if (appliedNow.has(k) || others.has(k)) continue;
      base = removePath(base, p.map((s) => s.slice(2)));
    }
  }
  const { metadata: cmeta, ...cfgRest } = config;
  const merged = strategicMergePatch(base, cfgRest as unknown as Json, keys) as unknown as KubeObject;
  merged.metadata = strategicMergePatch(merged.metadata as unknown as Json, { ...cmeta, managedFields: null } as unknown as Json) as KubeObject['metadata'];
  const entry: ManagedFieldsEntry = { manager, operation: 'Apply', apiVersion, time: now, fieldsType: 'FieldsV1', fieldsV1: pathsToFieldsV1(applied) };
  const rest = managed.filter((m) => !(m.manager === manager && m.operation === 'Apply') && Object.keys(m.fieldsV1).length > 0);
  // a manager left owning nothing has no entry (structured-merge-diff deletes empty managers)
  return { object: merged, managedFields: Object.keys(entry.fieldsV1).length ? [...rest, entry] : rest };
}

/** `doc` without the list item at `path` (object fields `f:…`, ending in the item's key `k:{…}`). */
function removeItem(doc: Json, path: string[]): Json {
  const [h, ...t] = path;
  if (h === undefined) return doc;
  if (h.startsWith('k:')) {
    if (!Array.isArray(doc)) return doc;
    const want = JSON.parse(h.slice(2)) as Obj;
    const match = (i: Json) => isObj(i) && Object.entries(want).every(([k, v]) => i[k] === v);
    return t.length ? doc.map((i) => (match(i) ? removeItem(i, t) : i)) : doc.filter((i) => !match(i));
  }
  const f = h.slice(2);
  if (!isObj(doc) || !(f in doc)) return doc;
  return { ...doc, [f]: removeItem(doc[f], t) };
}

function removePath(doc: Json, path: string[]): Json {
  if (!isObj(doc) || !path.length) return doc;
  const [h, ...t] = path;
  const out = { ...doc };
  if (!t.length) delete out[h];
  else if (h in out) out[h] = removePath(out[h], t);
  return out;
}

const UPDATE_META = new Set(['f:labels', 'f:annotations', 'f:ownerReferences', 'f:finalizers']);
function ownedPaths(obj: KubeObject, subresource: string, keys: ListKeys): string[][] {
  const { apiVersion: _a, kind: _k, ...rest } = obj;
  return fieldPaths(rest as unknown as Json, [], '', keys).filter((p) => {
    if (!p.length) return false;
    if (p[0] === 'f:metadata') return UPDATE_META.has(p[1]);
    return subresource === 'status' ? p[0] === 'f:status' : p[0] !== 'f:status';
  });
}

/**
 * managedFields after a non-apply write (create, update, patch) by `manager`: it owns every field it changed,
 * and those fields leave other managers' sets (updates never conflict, as in kube-apiserver).
 */
export function recordUpdate(old: KubeObject | undefined, next: KubeObject, manager: string, apiVersion: string, now: string, subresource = '', keys: ListKeys = mergeKeyFor): ManagedFieldsEntry[] {
  const entries = structuredClone(old?.metadata.managedFields ?? []);
  const oldPaths = old ? ownedPaths(old, subresource, keys) : [];
  const nextPaths = ownedPaths(next, subresource, keys);
  const key = (p: string[]) => p.join('\u0000');
  const changed = nextPaths.filter((p) => !old || JSON.stringify(valueAt(old as unknown as Json, p)) !== JSON.stringify(valueAt(next as unknown as Json, p)));
  const nextKeys = new Set(nextPaths.map(key));
  const removed = oldPaths.filter((p) => !nextKeys.has(key(p)));
  const touched = new Set([...changed, ...removed].map(key));
  if (!touched.size && old) return entries;
  const out: ManagedFieldsEntry[] = [];
  let mine: ManagedFieldsEntry | undefined;
  for (const m of entries) {
    if (m.manager === manager && m.operation === 'Update') { mine = m; continue; }
    const kept = fieldsV1ToPaths(m.fieldsV1).filter((p) => p.length && !touched.has(key(p)));
    if (kept.length) out.push({ ...m, fieldsV1: pathsToFieldsV1(kept) });
  }
  const minePaths = new Map<string, string[]>();
  for (const p of mine ? fieldsV1ToPaths(mine.fieldsV1) : []) if (p.length && nextKeys.has(key(p))) minePaths.set(key(p), p);
  for (const p of changed) minePaths.set(key(p), p);
  if (minePaths.size) out.push({ manager, operation: 'Update', apiVersion, time: now, fieldsType: 'FieldsV1', fieldsV1: pathsToFieldsV1([...minePaths.values()]) });
  return out;
}

/** The field manager of a request: `?fieldManager=`, else the user agent's program name, as kube-apiserver does. */
export function managerOf(fieldManager: string | null, userAgent: string | undefined): string {
  if (fieldManager) return fieldManager;
  const ua = (userAgent ?? '').split('/')[0].trim();
  return ua || 'unknown';
}
