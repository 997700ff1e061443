// Kubernetes objects (security.istio.io v1/v1beta1) → the security model (pure). Shape errors name the field.
import type { KubeObject } from '../policy/parse.ts';
import type { SecurityObject } from './types.ts';

export const SECURITY_GROUP = 'security.istio.io';
export const SECURITY_VERSION = 'v1';
export const SECURITY_PLURALS = ['authorizationpolicies', 'peerauthentications'] as const;

export function securityFromKube(o: KubeObject): SecurityObject | { error: string } {
  const id = `${o.kind ?? '?'} ${o.metadata?.namespace ?? '?'}/${o.metadata?.name ?? '?'}`;
  if (o.apiVersion !== `${SECURITY_GROUP}/v1` && o.apiVersion !== `${SECURITY_GROUP}/v1beta1`) return { error: `apiVersion: ${String(o.apiVersion)} is not ${SECURITY_GROUP}/v1 or v1beta1 (${id})` };
  if (!o.metadata?.namespace || !o.metadata.name) return { error: `metadata.namespace, metadata.name: required (${id})` };
  const spec = o.spec ?? {};
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) return { error: 'spec: must be an object' };
  const metadata = { namespace: o.metadata.namespace, name: o.metadata.name, generation: o.metadata.generation ?? 1 };
  if (o.kind === 'AuthorizationPolicy') return { kind: 'AuthorizationPolicy', metadata, spec: spec as never };
  if (o.kind === 'PeerAuthentication') return { kind: 'PeerAuthentication', metadata, spec: spec as never };
  return { error: `kind: ${String(o.kind)} is not AuthorizationPolicy or PeerAuthentication` };
}
