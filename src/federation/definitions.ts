// Pure: which clusters define each federated service, and in what precedence. A definition is a cluster's native
// Service (not meshfed's replica, not an east-west gateway) in a federated namespace. The oldest definition wins
// (its ports are the merged service's ports): creationTimestamp to the second, as Kubernetes stores it; on a tie, the
// cluster whose name sorts first. docs/CONTRACTS.md states the rule.
import type * as k8s from '@kubernetes/client-node';
import { serviceKey } from '../mesh/types.ts';
import type { ServicePort } from '../mesh/types.ts';
import { servicePorts } from './clusterIndex.ts';
import { LABELS, isReplicaService } from './labels.ts';
import type { MergeCache } from './mergeCache.ts';
import type { ClusterView, Definition, Groups, Group } from './mergeTypes.ts';

/** creationTimestamp in whole seconds (Kubernetes' precision; a finer value is truncated); missing: last. */
export function createdSecond(svc: k8s.V1Service): number {
  const t = svc.metadata?.creationTimestamp;
  if (t === undefined) return Number.MAX_SAFE_INTEGER;
  const ms = new Date(t).getTime();
  return Number.isNaN(ms) ? Number.MAX_SAFE_INTEGER : Math.floor(ms / 1000);
}

/** Precedence of two definitions of one service: negative when `a` wins (older, or same second and name first). */
export function precedence(a: Pick<Definition, 'created' | 'cluster'>, b: Pick<Definition, 'created' | 'cluster'>): number {
  return a.created - b.created || (a.cluster < b.cluster ? -1 : a.cluster > b.cluster ? 1 : 0);
}

export function portsSignature(ports: readonly ServicePort[]): string {
  return ports.map((p) => `${p.name}/${p.port}/${p.protocol}`).join(',');
}

function definition(cluster: string, svc: k8s.V1Service, ns: string, name: string, cache: MergeCache): [string, Definition] {
  let d = cache.definition.get(svc);
  if (!d || d[1].cluster !== cluster) {
    d = [serviceKey(ns, name), { cluster, svc, ports: servicePorts(svc, cache), created: createdSecond(svc) }];
    cache.definition.set(svc, d);
  }
  return d;
}

function clusterDefinitions(c: ClusterView, federated: ReadonlySet<string>, fedSig: string, cache: MergeCache): [string, Definition][] {
  const m = cache.defs.get(c.services);
  if (m && m.cluster === c.status.name && m.fedSig === fedSig) return m.defs;
  let defs: [string, Definition][] = [];
  for (const svc of c.services) {
    const ns = svc.metadata?.namespace;
    const name = svc.metadata?.name;
    if (!ns || !name || !federated.has(ns) || isReplicaService(svc)) continue;
    if (svc.metadata?.labels?.[LABELS.gateway] === 'eastwest') continue;
    defs.push(definition(c.status.name, svc, ns, name, cache));
  }
  const last = cache.lastDefs.get(c.status.name);
  if (last && last.fedSig === fedSig && last.defs.length === defs.length && last.defs.every((d, i) => d === defs[i])) defs = last.defs;
  else cache.lastDefs.set(c.status.name, { fedSig, defs });
  cache.defs.set(c.services, { cluster: c.status.name, fedSig, defs });
  return defs;
}

const byKeyOrder = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);

/**
 * Every cluster's definitions grouped by service key: keys sorted, each group in precedence order (winner first).
 * `sorted` are the clusters by name. Regrouped only when some cluster's definitions or the cluster set changed.
 */
export function groupDefinitions(sorted: readonly ClusterView[], federated: ReadonlySet<string>, fedSig: string, cache: MergeCache): Groups {
  const perCluster = sorted.map((c) => clusterDefinitions(c, federated, fedSig, cache));
  // a removed cluster's definitions go with it
  for (const name of cache.lastDefs.keys()) if (!sorted.some((c) => c.status.name === name)) cache.lastDefs.delete(name);
  const m = cache.groups;
  if (m && m.fedSig === fedSig && m.perCluster.length === perCluster.length && m.perCluster.every((d, i) => d === perCluster[i])) return m.grouped;
  const defs = new Map<string, Definition[]>();
  for (const cdefs of perCluster) {
    for (const [key, d] of cdefs) {
      const list = defs.get(key);
      if (list) list.push(d); else defs.set(key, [d]);
    }
  }
  const groups: Group[] = [];
  for (const key of [...defs.keys()].sort(byKeyOrder)) {
    const list = defs.get(key)!;
    if (list.length > 1) list.sort(precedence);
    groups.push({ key, list, svcs: list.map((d) => d.svc), clusters: list.map((d) => d.cluster) });
  }
  const grouped = { groups, byKey: new Map(groups.map((g) => [g.key, g])) };
  cache.groups = { fedSig, perCluster, grouped };
  return grouped;
}
