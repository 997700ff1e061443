// Pure: what the replication plan reads, reduced to something cheap to compare — the federated services' names,
// ports and source clusters, and the identity of each cluster's Namespace and Service lists (informer caches hand
// out a new array only after a change). Endpoint changes leave it equal, so they cost no planning.
import type * as k8s from '@kubernetes/client-node';
import type { MeshSnapshot } from '../mesh/types.ts';
import type { ClusterObjects } from './replicationPlan.ts';

export interface ReplicationInput {
  services: string;
  lists: Array<[string, readonly k8s.V1Namespace[], readonly k8s.V1Service[]]>;
}

export function replicationInput(s: MeshSnapshot, clusters: readonly ClusterObjects[]): ReplicationInput {
  const parts: string[] = [];
  for (const [key, svc] of s.services) parts.push(`${key}|${svc.clusters.join(',')}|${svc.ports.map((p) => `${p.name}/${p.port}/${p.protocol}/${p.appProtocol ?? ''}`).join(',')}`);
  return { services: parts.join('\n'), lists: clusters.map((c) => [c.cluster, c.namespaces, c.services]) };
}

export function sameReplicationInput(a: ReplicationInput | undefined, b: ReplicationInput): boolean {
  if (!a || a.services !== b.services || a.lists.length !== b.lists.length) return false;
  return a.lists.every(([c, ns, svc], i) => b.lists[i]![0] === c && b.lists[i]![1] === ns && b.lists[i]![2] === svc);
}
