// Pure merge of per-cluster Kubernetes state into one immutable MeshSnapshot. No I/O and no module state: what it
// remembers between merges (to rebuild only what changed) lives in the MergeCache the caller passes — Federation
// owns one; without one, each call merges from scratch.
import type { Endpoint, MeshService, MeshSnapshot, PortConflict } from '../mesh/types.ts';
import { serviceHostname } from '../mesh/names.ts';
import { clusterNetwork, endpointsByKey, federatedNamespaces, gatewaysOf } from './clusterIndex.ts';
import { groupDefinitions, portsSignature } from './definitions.ts';
import { MergeCache } from './mergeCache.ts';
import type { ClusterView, Group, ServiceInputs } from './mergeTypes.ts';

export type { ClusterView } from './mergeTypes.ts';
export { clusterNetwork, federatedNamespaces, servicePorts } from './clusterIndex.ts';
export { MergeCache } from './mergeCache.ts';

export interface MergeOptions {
  version: number;
  now: Date;
  trustDomain?: string;
  domainSuffix?: string;
  federateAll?: boolean;
  /** region → failover order from the topology config */
  failover?: Readonly<Record<string, readonly string[]>>;
  /** the previous snapshot (built with the same cache): services whose inputs did not change are reused as they are */
  previous?: MeshSnapshot;
  /**
   * With `previous`: the only service keys (namespace/name) whose inputs — Services, EndpointSlices, the Pods
   * those slices point at — may have changed since `previous` was built. Only they are recomputed; every other
   * service (and its counts) is taken from `previous`. Ignored (a full merge) when anything global changed since
   * then: the clusters or their status, the federated namespaces, the domain suffix. Undefined: any may have changed.
   */
  dirty?: ReadonlySet<string>;
  /** the caller's incremental cache (one per Federation); default: a new one, i.e. a merge from scratch */
  cache?: MergeCache;
}

function sameInputs(a: ServiceInputs | undefined, b: ServiceInputs): boolean {
  if (!a || a.domainSuffix !== b.domainSuffix || a.svcs.length !== b.svcs.length) return false;
  for (let i = 0; i < b.svcs.length; i++) {
    if (a.svcs[i] !== b.svcs[i] || a.clusters[i] !== b.clusters[i] || a.eps[i] !== b.eps[i]) return false;
  }
  return true;
}

interface Counts { services: number; endpoints: number }

/** Per-merge context: the clusters by name, their networks, and each cluster's running counts. */
interface MergeCtx {
  domainSuffix: string;
  byName: Map<string, ClusterView>;
  networks: Map<string, string>;
  counts: Map<string, Counts>;
  cache: MergeCache;
}

/** One MeshService from its definitions (winner first) and each defining cluster's endpoints — or `prev` as it is. */
function buildService(g: Group, prev: MeshService | undefined, ctx: MergeCtx): MeshService {
  const { key, list, svcs, clusters: sources } = g;
  const winner = list[0]!;
  const [namespace, name] = [winner.svc.metadata!.namespace!, winner.svc.metadata!.name!];
  const before = prev && ctx.cache.serviceInputs.get(prev);
  // reusable while the definitions (shared arrays of the memoized grouping) and every endpoint list are the same
  let same = before !== undefined && before.domainSuffix === ctx.domainSuffix && before.svcs === svcs;
  const eps: (readonly Endpoint[])[] = [];
  for (let i = 0; i < list.length; i++) {
    const d = list[i]!;
    const c = ctx.byName.get(d.cluster)!;
    const stale = c.status.state === 'unreachable' ? c.status.since : undefined;
    const e = endpointsByKey(c, key, ctx.networks.get(d.cluster)!, stale, ctx.cache);
    if (same && before!.eps[i] !== e) same = false;
    eps.push(e);
  }
  const inputs: ServiceInputs = { domainSuffix: ctx.domainSuffix, svcs, clusters: sources, eps };
  if (prev && (same || sameInputs(before, inputs))) return prev;
  const conflicts: PortConflict[] = [];
  for (const d of list.slice(1)) {
    if (portsSignature(d.ports) !== portsSignature(winner.ports)) {
      conflicts.push({
        cluster: d.cluster,
        winner: winner.cluster,
        detail: `ports [${portsSignature(d.ports)}] in ${d.cluster} differ from the older definition [${portsSignature(winner.ports)}] in ${winner.cluster}`,
      });
    }
  }
  const ms: MeshService = Object.freeze({
    namespace, name,
    hostname: serviceHostname(name, namespace, ctx.domainSuffix),
    ports: Object.freeze(winner.ports),
    clusters: Object.freeze(list.map((d) => d.cluster).sort()),
    endpoints: Object.freeze(inputs.eps.flat()),
    conflicts: Object.freeze(conflicts),
  });
  ctx.cache.serviceInputs.set(ms, inputs);
  return ms;
}

/** Add (sign 1) or remove (sign -1) a service's share of its clusters' service and endpoint counts. */
function count(ms: MeshService, counts: Map<string, Counts>, sign: 1 | -1): void {
  for (const c of ms.clusters) {
    const n = counts.get(c);
    if (n) n.services += sign;
  }
  for (const e of ms.endpoints) {
    const n = counts.get(e.cluster);
    if (n) n.endpoints += sign;
  }
}

function globalsSignature(sorted: readonly ClusterView[], networks: ReadonlyMap<string, string>, fedSig: string, domainSuffix: string): string {
  return JSON.stringify([domainSuffix, fedSig, sorted.map((c) => [c.status, networks.get(c.status.name)])]);
}

const byKeyOrder = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);

/** Merge every cluster's state into one snapshot. Same namespace/name in two clusters = one service. */
export function mergeClusters(clusters: readonly ClusterView[], opts: MergeOptions): MeshSnapshot {
  const cache = opts.cache ?? new MergeCache();
  const domainSuffix = opts.domainSuffix ?? 'cluster.local';
  const federated = federatedNamespaces(clusters, opts.federateAll);
  const sorted = [...clusters].sort((a, b) => a.status.name.localeCompare(b.status.name));
  const fedSig = [...federated].sort().join(',');
  const byName = new Map(sorted.map((c) => [c.status.name, c]));
  const networks = new Map(sorted.map((c) => [c.status.name, clusterNetwork(c)]));
  const globals = globalsSignature(sorted, networks, fedSig, domainSuffix);
  const { groups, byKey } = groupDefinitions(sorted, federated, fedSig, cache);
  const prevSnap = opts.previous;
  let services: Map<string, MeshService>;
  let counts: Map<string, Counts>;
  let changed: Set<string> | undefined;
  if (prevSnap && opts.dirty && cache.globals.get(prevSnap) === globals) {
    // dirty-key merge: recompute only the changed keys, keep every other service (and its counts) from previous
    counts = new Map(prevSnap.clusters.map((c) => [c.name, { services: c.services, endpoints: c.endpoints }]));
    const ctx: MergeCtx = { domainSuffix, byName, networks, counts, cache };
    // the previous map is shared until a service really changes (a replica arriving changes none)
    services = prevSnap.services as Map<string, MeshService>;
    let copied = false;
    let keysChanged = false;
    for (const key of opts.dirty) {
      const old = services.get(key);
      const g = byKey.get(key);
      const ms = g && buildService(g, old, ctx);
      if (ms === old) continue;
      if (!copied) { services = new Map(services); copied = true; }
      (changed ??= new Set()).add(key);
      if (old) count(old, counts, -1);
      if (ms) { count(ms, counts, 1); services.set(key, ms); } else services.delete(key);
      if (!old || !ms) keysChanged = true;
    }
    // keys in sorted order, as a full merge lists them
    if (keysChanged) services = new Map([...services].sort(([x], [y]) => byKeyOrder(x, y)));
  } else {
    counts = new Map(sorted.map((c) => [c.status.name, { services: 0, endpoints: 0 }]));
    const ctx: MergeCtx = { domainSuffix, byName, networks, counts, cache };
    services = new Map();
    for (const g of groups) {
      const ms = buildService(g, prevSnap?.services.get(g.key), ctx);
      count(ms, counts, 1);
      services.set(g.key, ms);
    }
  }
  const statuses = sorted.map((c) => Object.freeze({ ...c.status, network: networks.get(c.status.name)!, ...counts.get(c.status.name)! }));
  const snapshot: MeshSnapshot = Object.freeze({
    version: opts.version,
    builtAt: opts.now.toISOString(),
    trustDomain: opts.trustDomain ?? 'cluster.local',
    domainSuffix,
    clusters: Object.freeze(statuses),
    services,
    gateways: Object.freeze(sorted.flatMap((c) => gatewaysOf(c, cache))),
    failover: Object.freeze({ ...(opts.failover ?? {}) }),
  });
  cache.globals.set(snapshot, globals);
  if (prevSnap && opts.dirty && services !== prevSnap.services && changed) cache.changedSince.set(snapshot, { base: new WeakRef(prevSnap), keys: changed });
  return snapshot;
}
