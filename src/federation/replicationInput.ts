// Pure: what the replication plan reads, reduced to something cheap to compare — the federated services' names,
// ports and source clusters, and the identity of each cluster's Namespace and Service lists (informer caches hand
// out a new array only after a change). Endpoint changes leave it equal, so they cost no planning.
import type * as k8s from '@kubernetes/client-node';
import type { MeshService, MeshSnapshot } from '../mesh/types.ts';
import type { ClusterObjects } from './replicationPlan.ts';

export interface ReplicationInput {
  services: ReadonlyMap<string, MeshService>;
  lists: Array<[string, readonly k8s.V1Namespace[], readonly k8s.V1Service[]]>;
}

export function replicationInput(s: MeshSnapshot, clusters: readonly ClusterObjects[]): ReplicationInput {
  return { services: s.services, lists: clusters.map((c) => [c.cluster, c.namespaces, c.services]) };
}

/** What a replica is made of: its source clusters and ports (not its endpoints). `sigs` memoizes it (the caller's). */
function replicaSignature(svc: MeshService, sigs: WeakMap<MeshService, string>): string {
  let sig = sigs.get(svc);
  if (sig === undefined) {
    sig = `${svc.clusters.join(',')}|${svc.ports.map((p) => `${p.name}/${p.port}/${p.protocol}/${p.appProtocol ?? ''}`).join(',')}`;
    sigs.set(svc, sig);
  }
  return sig;
}

export function sameReplicationInput(a: ReplicationInput | undefined, b: ReplicationInput, sigs = new WeakMap<MeshService, string>()): boolean {
  if (!a || a.lists.length !== b.lists.length) return false;
  if (!a.lists.every(([c, ns, svc], i) => b.lists[i]![0] === c && b.lists[i]![1] === ns && b.lists[i]![2] === svc)) return false;
  if (a.services === b.services) return true;
  if (a.services.size !== b.services.size) return false;
  // a dirty-key merge shares every unchanged MeshService with the previous snapshot: mostly identity checks
  for (const [key, svc] of b.services) {
    const old = a.services.get(key);
    if (old !== svc && (old === undefined || replicaSignature(old, sigs) !== replicaSignature(svc, sigs))) return false;
  }
  return true;
}
