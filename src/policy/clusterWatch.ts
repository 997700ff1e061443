// Informers on VirtualServices and DestinationRules in one cluster (src/kube/informer.ts: backoff, relist on 410, a
// hung server noticed). A cluster without the CRDs (a member that never had Istio or meshfed's CRDs installed) is
// reported once and read once they appear; an outage is logged once when it starts, at most once a minute while
// it lasts, and once when it ends.
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import { Informer, type InformerEvent, type InformerHealth, type WatchTiming } from '../kube/informer.ts';
import { Liveness } from '../kube/liveness.ts';
import { OutageLog } from '../kube/outageLog.ts';
import type { KubeObject } from './parse.ts';

export const POLICY_GROUP = 'networking.istio.io';
export const POLICY_VERSION = 'v1';
export const POLICY_PLURALS = ['virtualservices', 'destinationrules'] as const;

export interface PolicyKinds { group: string; version: string; plurals: readonly string[]; /** for logs, e.g. "egress policy" */ what?: string }

export class ClusterPolicyWatch {
  private readonly informers: Informer[] = [];
  private readonly kinds: PolicyKinds;
  private readonly timing: WatchTiming | undefined;
  private stopped = false;
  private warned = false;
  private readonly outage: OutageLog;
  private readonly liveness: Liveness;

  /** `cluster` '' = the control-plane cluster (named only in logs). */
  constructor(
    readonly cluster: string,
    readonly kubeConfig: k8s.KubeConfig,
    private readonly changed: () => void,
    private readonly log: Logger,
    opts: {
      /** which objects (default: networking.istio.io VirtualServices and DestinationRules) */
      kinds?: PolicyKinds;
      timing?: WatchTiming;
      /** what these objects are, for logs (default "traffic policy") */
      what?: string;
    } = {},
  ) {
    this.kinds = opts.kinds ?? { group: POLICY_GROUP, version: POLICY_VERSION, plurals: POLICY_PLURALS };
    this.timing = opts.timing;
    this.liveness = new Liveness(kubeConfig, this.timing?.liveness);
    const where = cluster ? `cluster ${cluster}` : 'the control-plane cluster';
    this.outage = new OutageLog(`${opts.kinds?.what ?? opts.what ?? 'traffic policy'} in ${where}`, log, { cluster: cluster || 'control plane' });
  }

  /** Resolves once both informers listed, or failed their first attempt (then they keep retrying). */
  async start(): Promise<void> {
    const { group, version } = this.kinds;
    for (const plural of this.kinds.plurals) {
      const inf = new Informer({ kubeConfig: this.kubeConfig, path: `/apis/${group}/${version}/${plural}`, liveness: this.liveness, ...(this.timing ? { timing: this.timing } : {}) });
      inf.on('add', this.changed);
      inf.on('update', this.changed);
      inf.on('delete', this.changed);
      inf.onHealth((e, h) => this.health(e, h));
      this.informers.push(inf);
    }
    await Promise.all(this.informers.map((i) => i.start()));
  }

  objects(): KubeObject[] {
    return this.informers.flatMap((i) => i.list() as KubeObject[]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.liveness.close();
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  private health(e: InformerEvent, h: InformerHealth): void {
    if (this.stopped) return;
    if (e === 'failed' && h.error) {
      if (h.error.status !== 404) { this.outage.failed(h.error.state, h.error.reason); return; }
      // no CRDs here (404): not an outage; said once, and read once they are installed
      if (!this.warned) {
        this.warned = true;
        this.log.info({ cluster: this.cluster || 'control plane', group: this.kinds.group }, `no ${this.kinds.group} CRDs in this cluster; its ${this.kinds.plurals.join('/')} are read once they are installed`);
      }
    }
    // back when every informer is watching again (or answered that the CRDs are missing)
    if (this.informers.every((i) => { const x = i.health(); return x.synced || x.error?.status === 404; })) this.outage.recovered();
  }
}
