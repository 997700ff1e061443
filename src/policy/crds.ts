/** CRD manifests for the Istio kinds meshfed serves (v1 storage, v1beta1 also served), as Istio names them. */

export interface CrdManifest {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string };
  spec: Record<string, unknown>;
}

/** One Istio kind's CRD: the spec and status are kept as given (preserve-unknown-fields), status is a subresource. */
export function istioCrd(kind: string, plural: string, shortNames: string[], group = 'networking.istio.io'): CrdManifest {
  const schema = {
    openAPIV3Schema: {
      type: 'object',
      properties: {
        spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      },
    },
  };
  const version = (name: string, storage: boolean) => ({ name, served: true, storage, schema, subresources: { status: {} } });
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase(), shortNames, categories: ['istio-io', `${group.split('.')[0]}-istio-io`] },
      versions: [version('v1', true), version('v1beta1', false)],
    },
  };
}

export const POLICY_CRDS: readonly CrdManifest[] = [istioCrd('VirtualService', 'virtualservices', ['vs']), istioCrd('DestinationRule', 'destinationrules', ['dr'])];
