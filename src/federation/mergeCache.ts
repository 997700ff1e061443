// The merge's incremental cache, owned by one Federation (one control plane): memo tables keyed by the identity of
// the immutable inputs (informer arrays, Service objects, snapshots) and the last grouping of definitions. Two
// Federations in one process each have their own, so neither sees (nor keeps alive) the other's objects. Dropping
// the cache drops everything it remembers; a merge without one (mergeClusters' default) is a merge from scratch.
import type * as k8s from '@kubernetes/client-node';
import type { Gateway, MeshService, MeshSnapshot, ServicePort } from '../mesh/types.ts';
import type { Definition, Groups, ServiceInputs, SliceMemo } from './mergeTypes.ts';

export class MergeCache {
  /** a Service's ports, normalized */
  readonly ports = new WeakMap<k8s.V1Service, ServicePort[]>();
  // Per-cluster indexes, by the identity of the (immutable) arrays they come from: a change in one cluster's
  // EndpointSlices does not re-index its pods and nodes, nor other clusters.
  readonly slices = new WeakMap<readonly k8s.V1EndpointSlice[], Map<string, k8s.V1EndpointSlice[]>>();
  readonly pods = new WeakMap<readonly k8s.V1Pod[], Map<string, k8s.V1Pod>>();
  readonly nodes = new WeakMap<readonly k8s.V1Node[], Map<string, k8s.V1Node>>();
  /** endpoints of one EndpointSlice object, reused while nothing they depend on changed */
  readonly sliceEndpoints = new WeakMap<k8s.V1EndpointSlice, SliceMemo>();
  readonly gateways = new WeakMap<readonly k8s.V1Service[], { sig: string; gateways: Gateway[] }>();
  /**
   * A cluster's federated service definitions, recomputed only when its Services (the array) or the federated
   * namespaces change: a merge after one change elsewhere does not walk this cluster's Services again.
   */
  readonly defs = new WeakMap<readonly k8s.V1Service[], { cluster: string; fedSig: string; defs: [string, Definition][] }>();
  /** one definition per Service object */
  readonly definition = new WeakMap<k8s.V1Service, [string, Definition]>();
  /**
   * Each cluster's last definitions: when a cluster's Services change in a way that leaves its definitions as they
   * were (meshfed's replicas arriving, the most frequent Service change during replication), the previous array is
   * kept, so grouping the definitions of every cluster is not redone. Clusters no longer merged are dropped.
   */
  readonly lastDefs = new Map<string, { fedSig: string; defs: [string, Definition][] }>();
  /**
   * Definitions grouped by key, recomputed only when some cluster's definitions (their memoized array) or the cluster
   * set changed: an endpoint-only change, the most frequent kind, does not regroup or re-sort every key.
   */
  groups: { fedSig: string; perCluster: [string, Definition][][]; grouped: Groups } | undefined;
  /** what each MeshService was built from */
  readonly serviceInputs = new WeakMap<MeshService, ServiceInputs>();
  /** what a snapshot was merged from beyond its services: a dirty-key merge on top of it needs the same */
  readonly globals = new WeakMap<MeshSnapshot, string>();
  /**
   * For a snapshot built by a dirty-key merge: the snapshot it was built on and the keys whose service changed. The
   * base is held weakly: a strong reference would keep every snapshot ever built alive, each through its successor.
   */
  readonly changedSince = new WeakMap<MeshSnapshot, { base: WeakRef<MeshSnapshot>; keys: ReadonlySet<string> }>();

  /**
   * The service keys that differ between `prev` and `next` (added, removed or a new MeshService object), when `next`
   * was built from `prev` by a dirty-key merge with this cache; undefined when unknown (compare the whole maps).
   */
  changedServices(prev: MeshSnapshot, next: MeshSnapshot): ReadonlySet<string> | undefined {
    if (prev.services === next.services) return new Set();
    const c = this.changedSince.get(next);
    return c && c.base.deref() === prev ? c.keys : undefined;
  }
}
