// CRD manifests for the Istio security kinds meshfed enforces (v1 storage, v1beta1 also served), as Istio names them.
import { istioCrd, type CrdManifest } from '../policy/crds.ts';

export const SECURITY_CRDS: readonly CrdManifest[] = [
  istioCrd('AuthorizationPolicy', 'authorizationpolicies', ['ap'], 'security.istio.io'), istioCrd('PeerAuthentication', 'peerauthentications', ['pa'], 'security.istio.io'),
  // egress control: networking.istio.io kinds meshfed reads beside VirtualService/DestinationRule
  istioCrd('ServiceEntry', 'serviceentries', ['se']), istioCrd('Sidecar', 'sidecars', []),
];
