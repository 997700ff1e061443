// Watches VirtualServices and DestinationRules in the control-plane cluster and — through `members`, the
// federation's narrow member credentials, re-read whenever federation announces a member joined or left — in every
// member cluster (namespace sameness: demo/echo in any cluster
// is the same object; the control plane wins, then members by name). Validates them (the role Galley played),
// keeps serving the last good version of an object whose new generation is invalid, writes each object's status
// in the cluster it came from, and hands the accepted set (FQDN hosts) to a callback —
// pilot.setPolicy(compilePolicy(set)).
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import { createLogger } from '../log.ts';
import { POLICY_GROUP, POLICY_VERSION } from './clusterWatch.ts';
import { PolicyWatchSet, type PolicyMembers } from './watchSet.ts';
import { EvaluatingWatcher } from './evaluatingWatcher.ts';
import type { WatchTiming } from '../kube/informer.ts';
import { POLICY_CRDS } from './crds.ts';
import { mergeSources, sourceKey } from './merge.ts';
import { qualifyPolicy } from './normalize.ts';
import { fromKube, statusFor } from './parse.ts';
import { policyKey, type DestinationRule, type Rejection, type VirtualService } from './types.ts';
import { reconcile, type PolicySet } from './validate.ts';

export type { PolicyMembers } from './watchSet.ts';

export interface PolicyWatcherOptions {
  kubeConfig: k8s.KubeConfig;
  /** member clusters to read policy from */
  members?: PolicyMembers;
  /** informer timing for every cluster's watch (defaults in src/kube/informer.ts) */
  timing?: WatchTiming;
  domainSuffix?: string;
  /** install the CRDs when they are missing (default true; control-plane cluster only) */
  installCrds?: boolean;
  /** `rejected[i].cluster` is where the rejected object lives ('' = control plane) */
  onPolicy: (accepted: PolicySet, rejected: readonly (Rejection & { cluster: string })[]) => void;
  /** may this replica write statuses now (leader election)? Checked before each write; default: always */
  writeFence?: () => boolean;
  log?: Logger;
}

export class PolicyWatcher extends EvaluatingWatcher {
  protected readonly log: Logger;
  protected readonly watches: PolicyWatchSet;
  private good: PolicySet = { virtualServices: [], destinationRules: [] };
  /** what status each object last got, per cluster: `<generation>|<reasons>` (written only when it changes) */
  private readonly written = new Map<string, string>();
  /** shadowed copies already logged (`cluster|key|by`) */
  private readonly shadowLogged = new Set<string>();

  constructor(private readonly o: PolicyWatcherOptions) {
    super({ kubeConfig: o.kubeConfig, ...(o.installCrds === undefined ? {} : { installCrds: o.installCrds }), ...(o.writeFence ? { writeFence: o.writeFence } : {}), crds: POLICY_CRDS, what: 'traffic policy' });
    this.log = o.log ?? createLogger('policy');
    this.watches = new PolicyWatchSet({ what: 'traffic policy', kubeConfig: o.kubeConfig, ...(o.members ? { members: o.members } : {}), ...(o.timing ? { timing: o.timing } : {}), changed: () => this.schedule(), log: this.log });
  }

  protected async evaluate(): Promise<void> {
    if (this.stopped) return;
    const { objects, shadowed } = mergeSources(this.watches.sources());
    for (const s of shadowed) {
      const sig = `${s.cluster}|${s.key}|${s.by}`;
      if (!s.differs || this.shadowLogged.has(sig)) continue;
      this.shadowLogged.add(sig);
      this.log.warn({ object: s.key, cluster: s.cluster, servedFrom: s.by || 'control plane' }, 'traffic policy object differs from the copy of the same name that is served; edit it there (control plane first, then member clusters by name)');
    }
    const origin = new Map<string, string>();
    const incoming: PolicySet = { virtualServices: [], destinationRules: [] };
    const unparsable: (Rejection & { cluster: string })[] = [];
    for (const { cluster, object } of objects) {
      origin.set(sourceKey(object), cluster);
      const m = fromKube(object);
      if ('error' in m) {
        const md = object.metadata ?? {};
        unparsable.push({ cluster, kind: object.kind === 'DestinationRule' ? 'DestinationRule' : 'VirtualService', namespace: md.namespace ?? '', name: md.name ?? '', generation: md.generation ?? 1, reasons: [m.error] });
        continue;
      }
      if (m.kind === 'VirtualService') incoming.virtualServices.push(m as VirtualService);
      else incoming.destinationRules.push(m as DestinationRule);
    }
    const q = qualifyPolicy(incoming, this.o.domainSuffix);
    const { good, rejected } = reconcile(this.good, q);
    this.good = good;
    const all = [...rejected.map((r) => ({ ...r, cluster: origin.get(`${r.kind}/${r.namespace}/${r.name}`) ?? '' })), ...unparsable];
    for (const r of all) this.log.warn({ cluster: r.cluster || 'control plane', kind: r.kind, object: `${r.namespace}/${r.name}`, generation: r.generation, reasons: r.reasons }, 'traffic policy rejected; the last good version (if any) keeps being served');
    this.o.onPolicy(good, all);
    await this.writeStatuses(q, all, origin);
  }

  private kubeConfigOf(cluster: string): k8s.KubeConfig | undefined {
    return this.watches.kubeConfigOf(cluster);
  }

  private async writeStatuses(incoming: PolicySet, rejected: readonly (Rejection & { cluster: string })[], origin: ReadonlyMap<string, string>): Promise<void> {
    const byKey = new Map(rejected.map((r) => [`${r.kind}/${r.namespace}/${r.name}`, r]));
    for (const obj of [...incoming.virtualServices, ...incoming.destinationRules]) {
      const key = policyKey(obj);
      const cluster = origin.get(key) ?? '';
      const kc = this.kubeConfigOf(cluster);
      if (!kc || this.stopped) continue;
      const rej = byKey.get(key);
      const sig = `${obj.metadata.generation}|${rej?.reasons.join(';') ?? ''}`;
      if (this.written.get(`${cluster}|${key}`) === sig) continue;
      // a follower leaves statuses to the leader (it writes them all when it leads: resync)
      if (this.o.writeFence && !this.o.writeFence()) return;
      const plural = obj.kind === 'VirtualService' ? 'virtualservices' : 'destinationrules';
      try {
        await kc.makeApiClient(k8s.CustomObjectsApi).patchNamespacedCustomObjectStatus(
          { group: POLICY_GROUP, version: POLICY_VERSION, namespace: obj.metadata.namespace, plural, name: obj.metadata.name, body: { status: statusFor(obj.metadata.generation, rej) } },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        );
        this.written.set(`${cluster}|${key}`, sig);
      } catch (e) {
        this.log.warn({ cluster: cluster || 'control plane', object: key, err: (e as Error).message }, 'could not write traffic policy status (the member credentials need patch on virtualservices/status and destinationrules/status)');
      }
    }
  }
}
