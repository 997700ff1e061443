// Watches AuthorizationPolicies and PeerAuthentications (security.istio.io) in the control-plane cluster and, through
// the federation's narrow credentials, in every member cluster (namespace sameness; the control plane wins, then
// members by name). Validates each object, keeps the last good version of one whose new generation is invalid (the
// rest of the set is never dropped), writes each object's status condition in the cluster it came from, and hands
// the accepted set to `onSecurity` — pilot.setSecurity(compileSecurity(set)).
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import { createLogger } from '../log.ts';
import { PolicyWatchSet, type PolicyMembers } from '../policy/watchSet.ts';
import { EvaluatingWatcher } from '../policy/evaluatingWatcher.ts';
import { mergeSources, sourceKey } from '../policy/merge.ts';
import type { KubeObject } from '../policy/parse.ts';
import { SECURITY_CRDS } from './crds.ts';
import { EGRESS_GROUP, EGRESS_PLURALS, SECURITY_GROUP, SECURITY_PLURALS, SECURITY_VERSION, egressFromKube, securityFromKube } from './parse.ts';
import { EMPTY_EGRESS, reconcileEgress, type EgressSet, type ServiceEntry, type SidecarResource } from './egress.ts';
import { EMPTY_SECURITY, securityKey, type AuthorizationPolicy, type PeerAuthentication, type SecuritySet } from './types.ts';
import { reconcileSecurity, type SecurityRejection } from './validate.ts';

export interface SecurityWatcherOptions {
  kubeConfig: k8s.KubeConfig;
  /** member clusters to read policy from; the federation says when one joins or leaves */
  members?: PolicyMembers;
  /** install the CRDs when they are missing (default true) */
  installCrds?: boolean;
  /** `egress`: the accepted ServiceEntries and Sidecars (outboundTrafficPolicy) */
  onSecurity: (accepted: SecuritySet, rejected: readonly (SecurityRejection & { cluster: string })[], egress: EgressSet) => void;
  /** may this replica write statuses now (leader election)? Checked before each write; default: always */
  writeFence?: () => boolean;
  log?: Logger;
}

/** The status written back (Istio-style condition + validation messages naming the field). */
export function securityStatus(generation: number, rejection: SecurityRejection | undefined): Record<string, unknown> {
  return {
    observedGeneration: generation,
    conditions: [
      rejection
        ? { type: 'Reconciled', status: 'False', reason: 'Invalid', message: `${rejection.reasons.join('; ')} (the last valid version, if any, stays enforced)` }
        : { type: 'Reconciled', status: 'True', reason: 'Accepted', message: 'policy accepted and enforced by the sidecars' },
    ],
    validationMessages: (rejection?.reasons ?? []).map((r) => ({ level: 'ERROR', type: { code: 'MF0002', name: 'InvalidSecurityPolicy' }, description: r })),
  };
}

export class SecurityWatcher extends EvaluatingWatcher {
  protected readonly log: Logger;
  protected readonly watches: PolicyWatchSet;
  private good: SecuritySet = EMPTY_SECURITY;
  private goodEgress: EgressSet = EMPTY_EGRESS;
  private readonly written = new Map<string, string>();

  constructor(private readonly o: SecurityWatcherOptions) {
    super({ kubeConfig: o.kubeConfig, ...(o.installCrds === undefined ? {} : { installCrds: o.installCrds }), ...(o.writeFence ? { writeFence: o.writeFence } : {}), crds: SECURITY_CRDS, what: 'security policy' });
    this.log = o.log ?? createLogger('security');
    this.watches = new PolicyWatchSet({
      what: 'security policy', kubeConfig: o.kubeConfig, ...(o.members ? { members: o.members } : {}), changed: () => this.schedule(), log: this.log,
      kinds: [{ group: SECURITY_GROUP, version: SECURITY_VERSION, plurals: SECURITY_PLURALS, what: 'security policy' }, { group: EGRESS_GROUP, version: 'v1', plurals: EGRESS_PLURALS, what: 'egress policy' }],
    });
  }

  protected async evaluate(): Promise<void> {
    if (this.stopped) return;
    const { objects } = mergeSources(this.watches.sources());
    const origin = new Map<string, string>();
    const incoming: SecuritySet = { authorizationPolicies: [], peerAuthentications: [] };
    const incomingEgress: EgressSet = { serviceEntries: [], sidecars: [] };
    const unparsable: (SecurityRejection & { cluster: string })[] = [];
    const raw: KubeObject[] = [];
    for (const { cluster, object } of objects) {
      origin.set(sourceKey(object), cluster);
      if (object.kind === 'ServiceEntry' || object.kind === 'Sidecar') {
        const e = egressFromKube(object);
        const md = object.metadata ?? {};
        if ('error' in e) unparsable.push({ cluster, kind: object.kind, namespace: md.namespace ?? '', name: md.name ?? '', generation: md.generation ?? 1, reasons: [e.error] });
        else if (e.kind === 'ServiceEntry') incomingEgress.serviceEntries.push(e as ServiceEntry);
        else incomingEgress.sidecars.push(e as SidecarResource);
        continue;
      }
      const m = securityFromKube(object);
      if ('error' in m) {
        const md = object.metadata ?? {};
        unparsable.push({ cluster, kind: object.kind === 'PeerAuthentication' ? 'PeerAuthentication' : 'AuthorizationPolicy', namespace: md.namespace ?? '', name: md.name ?? '', generation: md.generation ?? 1, reasons: [m.error] });
        continue;
      }
      raw.push(object);
      if (m.kind === 'AuthorizationPolicy') incoming.authorizationPolicies.push(m as AuthorizationPolicy);
      else incoming.peerAuthentications.push(m as PeerAuthentication);
    }
    const { good, rejected: rejectedSecurity } = reconcileSecurity(this.good, incoming);
    this.good = good;
    const eg = reconcileEgress(this.goodEgress, incomingEgress);
    this.goodEgress = eg.good;
    const rejected = [...rejectedSecurity, ...eg.rejected];
    const all = [...rejected.map((r) => ({ ...r, cluster: origin.get(`${r.kind}/${r.namespace}/${r.name}`) ?? '' })), ...unparsable];
    for (const r of all) this.log.warn({ cluster: r.cluster || 'control plane', kind: r.kind, object: `${r.namespace}/${r.name}`, generation: r.generation, reasons: r.reasons }, 'security policy rejected; the last good version (if any) stays enforced');
    this.o.onSecurity(good, all, eg.good);
    await this.writeStatuses([...incoming.authorizationPolicies, ...incoming.peerAuthentications, ...incomingEgress.serviceEntries, ...incomingEgress.sidecars], all, origin);
  }

  private async writeStatuses(incoming: readonly (AuthorizationPolicy | PeerAuthentication | ServiceEntry | SidecarResource)[], rejected: readonly (SecurityRejection & { cluster: string })[], origin: ReadonlyMap<string, string>): Promise<void> {
    const byKey = new Map(rejected.map((r) => [`${r.kind}/${r.namespace}/${r.name}`, r]));
    for (const obj of incoming) {
      const key = securityKey(obj);
      const cluster = origin.get(key) ?? '';
      const kc = this.watches.kubeConfigOf(cluster);
      if (!kc || this.stopped) continue;
      const rej = byKey.get(key);
      const sig = `${obj.metadata.generation}|${rej?.reasons.join(';') ?? ''}`;
      if (this.written.get(`${cluster}|${key}`) === sig) continue;
      // a follower leaves statuses to the leader (it writes them all when it leads: reevaluate)
      if (this.o.writeFence && !this.o.writeFence()) return;
      const plural = ({ AuthorizationPolicy: 'authorizationpolicies', PeerAuthentication: 'peerauthentications', ServiceEntry: 'serviceentries', Sidecar: 'sidecars' } as const)[obj.kind];
      const group = obj.kind === 'ServiceEntry' || obj.kind === 'Sidecar' ? EGRESS_GROUP : SECURITY_GROUP;
      try {
        await kc.makeApiClient(k8s.CustomObjectsApi).patchNamespacedCustomObjectStatus(
          { group, version: SECURITY_VERSION, namespace: obj.metadata.namespace, plural, name: obj.metadata.name, body: { status: securityStatus(obj.metadata.generation, rej) } },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        );
        this.written.set(`${cluster}|${key}`, sig);
      } catch (e) {
        this.log.warn({ cluster: cluster || 'control plane', object: key, err: (e as Error).message }, 'could not write security policy status (needs patch on authorizationpolicies/status and peerauthentications/status)');
      }
    }
  }
}
