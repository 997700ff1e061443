// CRD manifests for the Istio security kinds meshfed enforces (v1 storage, v1beta1 also served), as Istio names them.
import type { CrdManifest } from '../policy/crds.ts';

function crd(kind: string, plural: string, shortNames: string[], group = 'security.istio.io'): CrdManifest {
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

export const SECURITY_CRDS: readonly CrdManifest[] = [
  crd('AuthorizationPolicy', 'authorizationpolicies', ['ap']), crd('PeerAuthentication', 'peerauthentications', ['pa']),
  // egress control: networking.istio.io kinds meshfed reads beside VirtualService/DestinationRule
  crd('ServiceEntry', 'serviceentries', ['se'], 'networking.istio.io'), crd('Sidecar', 'sidecars', [], 'networking.istio.io'),
];
