// Pure pieces of `meshfed cluster add`: the narrow RBAC meshfed asks for in a remote cluster and the
// registration Secret (a kubeconfig holding only the meshfed-reader token) stored in the control plane.
import type * as k8s from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { ANNOTATIONS, LABELS, MANAGED_BY, SYSTEM_NAMESPACE } from './labels.ts';

export const READER_SA = 'meshfed-reader';
export const READER_ROLE = 'meshfed-reader';

/** Read namespaces/services/endpointslices/pods/nodes and VirtualServices/DestinationRules (patch their status); write namespaces, services and the root-cert ConfigMap; create tokenreviews. */
export function readerClusterRole(): k8s.V1ClusterRole {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: READER_ROLE, labels: { [LABELS.managedBy]: MANAGED_BY } },
    rules: [
      { apiGroups: [''], resources: ['namespaces', 'services'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
      { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['configmaps'], resourceNames: ['meshfed-root-cert'], verbs: ['get', 'update', 'patch', 'delete'] },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['create'] },
      { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
      // traffic policy (VirtualService/DestinationRule) is read from members too; status tells the author what was rejected
      { apiGroups: ['networking.istio.io'], resources: ['virtualservices', 'destinationrules'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['networking.istio.io'], resources: ['virtualservices/status', 'destinationrules/status'], verbs: ['patch'] },
      { apiGroups: ['security.istio.io'], resources: ['authorizationpolicies', 'peerauthentications'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['security.istio.io'], resources: ['authorizationpolicies/status', 'peerauthentications/status'], verbs: ['patch'] },
      { apiGroups: ['networking.istio.io'], resources: ['serviceentries', 'sidecars'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['networking.istio.io'], resources: ['serviceentries/status', 'sidecars/status'], verbs: ['patch'] },
    ],
  };
}

export function readerClusterRoleBinding(): k8s.V1ClusterRoleBinding {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: READER_ROLE, labels: { [LABELS.managedBy]: MANAGED_BY } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: READER_ROLE },
    subjects: [{ kind: 'ServiceAccount', name: READER_SA, namespace: SYSTEM_NAMESPACE }],
  };
}

export interface Registration {
  name: string;
  network: string;
  region: string;
  server: string;
  /** base64 PEM of the cluster CA, if the operator's kubeconfig has one */
  caData?: string;
  insecureSkipTLSVerify?: boolean;
  token: string;
}

/** A kubeconfig that holds only the narrow token. */
export function narrowKubeconfig(r: Registration): string {
  const cluster: Record<string, unknown> = { server: r.server };
  if (r.caData) cluster['certificate-authority-data'] = r.caData;
  if (r.insecureSkipTLSVerify) cluster['insecure-skip-tls-verify'] = true;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: r.name, cluster }],
    users: [{ name: READER_SA, user: { token: r.token } }],
    contexts: [{ name: r.name, context: { cluster: r.name, user: READER_SA } }],
    'current-context': r.name,
  });
}

export function registrationSecretName(cluster: string): string {
  return `meshfed-remote-${cluster}`;
}

export function registrationSecret(r: Registration): k8s.V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: registrationSecretName(r.name),
      namespace: SYSTEM_NAMESPACE,
      labels: { [LABELS.multicluster]: 'true', [LABELS.managedBy]: MANAGED_BY },
      annotations: { [ANNOTATIONS.clusterName]: r.name, [ANNOTATIONS.network]: r.network, [ANNOTATIONS.region]: r.region },
    },
    stringData: { kubeconfig: narrowKubeconfig(r) },
  };
}

/** Cluster names become object names and SNI-free labels: DNS-1123 labels. */
export function validateClusterName(name: string): string | undefined {
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name)) {
    return `cluster name "${name}" is not a DNS-1123 label: use lowercase letters, digits and '-', at most 63 characters (pass --name)`;
  }
  return undefined;
}
