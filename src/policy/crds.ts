/** CRD manifests for the Istio networking kinds meshfed serves (v1 storage, v1beta1 also served). */

export interface CrdManifest {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string };
  spec: Record<string, unknown>;
}

function crd(kind: string, plural: string, shortNames: string[]): CrdManifest {
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
    metadata: { name: `${plural}.networking.istio.io` },
    spec: {
      group: 'networking.istio.io',
      scope: 'Namespaced',
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase(), shortNames, categories: ['istio-io', 'networking-istio-io'] },
      versions: [version('v1', true), version('v1beta1', false)],
    },
  };
}

export const POLICY_CRDS: readonly CrdManifest[] = [crd('VirtualService', 'virtualservices', ['vs']), crd('DestinationRule', 'destinationrules', ['dr'])];
