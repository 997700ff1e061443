// Shapes shared by the merge (merge.ts, clusterIndex.ts, definitions.ts) and its instance-owned cache (mergeCache.ts).
import type * as k8s from '@kubernetes/client-node';
import type { ClusterStatus, Endpoint, ServicePort } from '../mesh/types.ts';

/** What federation knows about one member cluster: its registration, status and last-known objects. */
export interface ClusterView {
  status: ClusterStatus;
  namespaces: readonly k8s.V1Namespace[];
  services: readonly k8s.V1Service[];
  endpointSlices: readonly k8s.V1EndpointSlice[];
  pods: readonly k8s.V1Pod[];
  nodes: readonly k8s.V1Node[];
}

/** One cluster's definition of a federated service: its native Service there. */
export interface Definition { cluster: string; svc: k8s.V1Service; ports: ServicePort[]; created: number }

/** Every definition of one service key, in precedence order (the winner first), and their Services and clusters. */
export interface Group { key: string; list: Definition[]; svcs: k8s.V1Service[]; clusters: string[] }
export interface Groups { groups: Group[]; byKey: Map<string, Group> }

/** Endpoints computed from one EndpointSlice, with what they were computed from. */
export interface SliceMemo {
  pods: Map<string, k8s.V1Pod>;
  nodes: Map<string, k8s.V1Node>;
  cluster: ClusterStatus;
  network: string;
  staleSince: string | undefined;
  endpoints: Endpoint[];
}

/** What a MeshService was built from, to reuse it when a later merge has identical inputs. */
export interface ServiceInputs { domainSuffix: string; svcs: k8s.V1Service[]; clusters: string[]; eps: (readonly Endpoint[])[] }
