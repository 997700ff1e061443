// Labels and annotations federation reads and writes (docs/CONTRACTS.md).

export const LABELS = {
  region: 'topology.kubernetes.io/region',
  zone: 'topology.kubernetes.io/zone',
  subZone: 'topology.istio.io/subzone',
  network: 'topology.istio.io/network',
  tlsMode: 'security.istio.io/tlsMode',
  gateway: 'meshfed.io/gateway',
  federation: 'meshfed.io/federation',
  managedBy: 'app.kubernetes.io/managed-by',
  multicluster: 'meshfed.io/multicluster',
  serviceName: 'kubernetes.io/service-name',
} as const;

export const ANNOTATIONS = {
  inboundPort: 'meshfed.io/inbound-port',
  sourceClusters: 'meshfed.io/source-clusters',
  clusterName: 'meshfed.io/cluster-name',
  /** uid of the cluster's kube-system namespace: the same cluster under two names is refused */
  clusterUid: 'meshfed.io/cluster-uid',
  network: 'meshfed.io/network',
  region: 'meshfed.io/region',
} as const;

export const MANAGED_BY = 'meshfed';
export const FIELD_MANAGER = 'meshfed';
export const SYSTEM_NAMESPACE = 'meshfed-system';

/** Namespaces never federated by `--federate-all`. */
export function isSystemNamespace(name: string): boolean {
  return name === SYSTEM_NAMESPACE || name === 'kube-system' || name === 'kube-public' || name === 'kube-node-lease';
}

export function isManagedByMeshfed(labels: Readonly<Record<string, string>> | undefined): boolean {
  return labels?.[LABELS.managedBy] === MANAGED_BY;
}

/**
 * A Service meshfed replicated and still owns: meshfed's label and no selector. Someone who applies their own
 * Service over a replica (kubectl apply merges into the existing object) brings a selector: from then on the
 * Service is theirs — a source of the merged service, never updated or deleted by meshfed.
 */
export function isReplicaService(svc: { metadata?: { labels?: Readonly<Record<string, string>> }; spec?: { selector?: Readonly<Record<string, string>> } }): boolean {
  return isManagedByMeshfed(svc.metadata?.labels) && Object.keys(svc.spec?.selector ?? {}).length === 0;
}

/** meshfed's label on a Service that has a selector: a replica someone applied their own Service over. */
export function isTakenOverReplica(svc: Parameters<typeof isReplicaService>[0]): boolean {
  return isManagedByMeshfed(svc.metadata?.labels) && !isReplicaService(svc);
}
