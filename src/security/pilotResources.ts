// What pilot needs from the security policy (pure): the accepted set with a content version, the workload a sidecar
// node stands for, and the sidecar's inbound listener (LDS `virtualInbound`). Pilot calls these from small hooks.
import { createHash } from 'node:crypto';
import type { ProxyNode } from '../pilot/node.ts';
import { TYPE_URL } from '../xds/protos.ts';
import { INBOUND_LISTENER, inboundListener } from './inboundListener.ts';
import { DEFAULT_ROOT_NAMESPACE } from './select.ts';
import { EMPTY_EGRESS, OUTBOUND_LISTENER, outboundListener, type EgressSet } from './egress.ts';
import { EMPTY_SECURITY, type SecuritySet, type WorkloadRef } from './types.ts';

export interface CompiledSecurity {
  /** '' = no security objects */
  version: string;
  set: SecuritySet;
  /** ServiceEntries and Sidecar outboundTrafficPolicy (LDS virtualOutbound) */
  egress: EgressSet;
  rootNamespace: string;
}

export const NO_SECURITY: CompiledSecurity = { version: '', set: EMPTY_SECURITY, egress: EMPTY_EGRESS, rootNamespace: DEFAULT_ROOT_NAMESPACE };

export function compileSecurity(set: SecuritySet, rootNamespace = DEFAULT_ROOT_NAMESPACE, egress: EgressSet = EMPTY_EGRESS): CompiledSecurity {
  const empty = set.authorizationPolicies.length + set.peerAuthentications.length + egress.serviceEntries.length + egress.sidecars.length === 0;
  return { version: empty ? '' : createHash('sha256').update(JSON.stringify([rootNamespace, set, egress])).digest('hex').slice(0, 12), set, egress, rootNamespace };
}

/** A sidecar's namespace from its Istio-style id `sidecar~<ip>~<pod>.<ns>~<ns>.svc.<domain>`; labels from LABELS. */
export function workloadOfNode(node: ProxyNode): WorkloadRef | undefined {
  if (node.role !== 'sidecar') return undefined;
  const parts = node.id.split('~');
  const ns = parts[3]?.split('.')[0] || parts[2]?.split('.').slice(1).join('.') || '';
  if (!ns) return undefined;
  return { namespace: ns, labels: node.labels ?? {} };
}

/** Extra node-class key for types whose resources depend on the workload (sidecar LDS): namespace and labels. */
export function securityClassKey(node: ProxyNode, typeUrl: string): string {
  if (typeUrl !== TYPE_URL.listener || node.role !== 'sidecar') return '';
  const w = workloadOfNode(node);
  return w ? `${w.namespace}|${JSON.stringify(Object.entries(w.labels).sort())}` : '';
}

/** The resource pilot serves for `name` from the security policy, if it is one (sidecar LDS `virtualInbound`, `virtualOutbound`). */
export function securityResource(typeUrl: string, name: string, node: ProxyNode, s: CompiledSecurity): Record<string, unknown> | undefined {
  if (typeUrl !== TYPE_URL.listener || (name !== INBOUND_LISTENER && name !== OUTBOUND_LISTENER)) return undefined;
  const w = workloadOfNode(node);
  if (!w) return undefined;
  return name === INBOUND_LISTENER ? inboundListener(s.set, w, s.rootNamespace) : outboundListener(s.egress, w.namespace, s.rootNamespace);
}
