// Kubernetes objects (security.istio.io v1/v1beta1) → the security model (pure). Shape errors name the field.
import type { KubeObject } from '../policy/parse.ts';
import type { SecurityMeta, SecurityObject } from './types.ts';
import type { ServiceEntry, SidecarResource } from './egress.ts';

export const SECURITY_GROUP = 'security.istio.io';
export const SECURITY_VERSION = 'v1';
export const SECURITY_PLURALS = ['authorizationpolicies', 'peerauthentications'] as const;
export const EGRESS_GROUP = 'networking.istio.io';
export const EGRESS_PLURALS = ['serviceentries', 'sidecars'] as const;

/** An object's metadata (generation 1 when the server sets none) and its spec, which must be an object. */
function envelope(o: KubeObject, errorSuffix: string): { metadata: SecurityMeta; spec: never } | { error: string } {
  if (!o.metadata?.namespace || !o.metadata.name) return { error: `metadata.namespace, metadata.name: required${errorSuffix}` };
  const spec = o.spec ?? {};
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) return { error: 'spec: must be an object' };
  return { metadata: { namespace: o.metadata.namespace, name: o.metadata.name, generation: o.metadata.generation ?? 1 }, spec: spec as never };
}

/** ServiceEntry / Sidecar (networking.istio.io v1, v1beta1, v1alpha3). */
export function egressFromKube(o: KubeObject): ServiceEntry | SidecarResource | { error: string } {
  if (!/^networking\.istio\.io\/(v1|v1beta1|v1alpha3)$/.test(String(o.apiVersion))) return { error: `apiVersion: ${String(o.apiVersion)} is not networking.istio.io/v1, v1beta1 or v1alpha3` };
  const e = envelope(o, '');
  if ('error' in e) return e;
  if (o.kind === 'ServiceEntry') return { kind: 'ServiceEntry', ...e };
  if (o.kind === 'Sidecar') return { kind: 'Sidecar', ...e };
  return { error: `kind: ${String(o.kind)} is not ServiceEntry or Sidecar` };
}

export function securityFromKube(o: KubeObject): SecurityObject | { error: string } {
  const id = `${o.kind ?? '?'} ${o.metadata?.namespace ?? '?'}/${o.metadata?.name ?? '?'}`;
  if (o.apiVersion !== `${SECURITY_GROUP}/v1` && o.apiVersion !== `${SECURITY_GROUP}/v1beta1`) return { error: `apiVersion: ${String(o.apiVersion)} is not ${SECURITY_GROUP}/v1 or v1beta1 (${id})` };
  const e = envelope(o, ` (${id})`);
  if ('error' in e) return e;
  if (o.kind === 'AuthorizationPolicy') return { kind: 'AuthorizationPolicy', ...e };
  if (o.kind === 'PeerAuthentication') return { kind: 'PeerAuthentication', ...e };
  return { error: `kind: ${String(o.kind)} is not AuthorizationPolicy or PeerAuthentication` };
}
