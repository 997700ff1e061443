// Where the trust bundle ConfigMap must exist: every federated namespace in every reachable member cluster. Pure.
import type { MeshSnapshot } from '../mesh/types.ts';

export function bundleNamespaces(snapshot: MeshSnapshot): string[] {
  const ns = new Set<string>();
  for (const s of snapshot.services.values()) ns.add(s.namespace);
  return [...ns].sort();
}

/** Clusters that can take writes now (connected), each with the namespaces that need the bundle. */
export function bundleTargets(snapshot: MeshSnapshot): { cluster: string; namespaces: string[] }[] {
  const namespaces = bundleNamespaces(snapshot);
  if (namespaces.length === 0) return [];
  return snapshot.clusters.filter((c) => c.state === 'connected').map((c) => ({ cluster: c.name, namespaces }));
}
