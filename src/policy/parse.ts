/** Kubernetes objects (networking.istio.io v1/v1beta1) → the policy model, and rejection → status patch. Pure. */
import type { DestinationRule, PolicyObject, Rejection, VirtualService } from './types.ts';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { namespace?: string; name?: string; generation?: number };
  spec?: unknown;
}

/** Returns the model object, or an error naming the object and what is wrong. */
export function fromKube(o: KubeObject): PolicyObject | { error: string } {
  const id = `${o.kind ?? '?'} ${o.metadata?.namespace ?? '?'}/${o.metadata?.name ?? '?'}`;
  if (o.apiVersion !== 'networking.istio.io/v1' && o.apiVersion !== 'networking.istio.io/v1beta1') {
    return { error: `${id}: apiVersion ${String(o.apiVersion)} is not networking.istio.io/v1 or v1beta1` };
  }
  if (!o.metadata?.namespace || !o.metadata.name) return { error: `${id}: metadata.namespace and metadata.name are required` };
  if (typeof o.spec !== 'object' || o.spec === null) return { error: `${id}: spec must be an object` };
  const metadata = { namespace: o.metadata.namespace, name: o.metadata.name, generation: o.metadata.generation ?? 1 };
  if (o.kind === 'VirtualService') return { kind: 'VirtualService', metadata, spec: o.spec as VirtualService['spec'] };
  if (o.kind === 'DestinationRule') return { kind: 'DestinationRule', metadata, spec: o.spec as DestinationRule['spec'] };
  return { error: `${id}: kind must be VirtualService or DestinationRule` };
}

/** The status written back to the object, modeled on Istio's analysis messages and conditions. */
export function statusFor(generation: number, rejection: Rejection | undefined): Record<string, unknown> {
  return {
    observedGeneration: generation,
    conditions: [
      rejection
        ? { type: 'Reconciled', status: 'False', reason: 'Invalid', message: rejection.reasons.join('; ') }
        : { type: 'Reconciled', status: 'True', reason: 'Accepted', message: 'configuration accepted and served' },
    ],
    validationMessages: (rejection?.reasons ?? []).map((r) => ({ level: 'ERROR', type: { code: 'MF0001', name: 'InvalidPolicy' }, description: r })),
  };
}
