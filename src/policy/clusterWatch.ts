// Informers on VirtualServices and DestinationRules in one cluster. A cluster without the CRDs (a member that
// never had Istio or meshfed's CRDs installed) is retried slowly and reported once, not on every retry.
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import type { KubeObject } from './parse.ts';

export const POLICY_GROUP = 'networking.istio.io';
export const POLICY_VERSION = 'v1';
export const POLICY_PLURALS = ['virtualservices', 'destinationrules'] as const;

type Inf = k8s.Informer<k8s.KubernetesObject> & k8s.ObjectCache<k8s.KubernetesObject>;

export class ClusterPolicyWatch {
  private readonly informers: Inf[] = [];
  private stopped = false;
  private warned = false;
  private readonly retries = new Set<NodeJS.Timeout>();

  /** `cluster` '' = the control-plane cluster (named only in logs). */
  constructor(
    readonly cluster: string,
    readonly kubeConfig: k8s.KubeConfig,
    private readonly changed: () => void,
    private readonly log: Logger,
    /** which objects (default: networking.istio.io VirtualServices and DestinationRules) */
    private readonly kinds: { group: string; version: string; plurals: readonly string[] } = { group: POLICY_GROUP, version: POLICY_VERSION, plurals: POLICY_PLURALS },
  ) {}

  /** Resolves once both informers listed, or failed their first list (then they keep retrying). */
  async start(): Promise<void> {
    const custom = this.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    const where = this.cluster || 'control plane';
    const { group, version } = this.kinds;
    for (const plural of this.kinds.plurals) {
      const inf = k8s.makeInformer(this.kubeConfig, `/apis/${group}/${version}/${plural}`,
        () => custom.listClusterCustomObject({ group, version, plural }) as Promise<k8s.KubernetesListObject<k8s.KubernetesObject>>);
      inf.on('add', this.changed);
      inf.on('update', this.changed);
      inf.on('delete', this.changed);
      inf.on('error', (err: unknown) => {
        if (this.stopped) return;
        const missing = (err as { code?: number }).code === 404;
        if (!missing) this.log.warn({ cluster: where, plural, err: (err as Error).message }, 'watching traffic policy failed; retrying');
        else if (!this.warned) {
          this.warned = true;
          this.log.info({ cluster: where, group }, `no ${group} CRDs in this cluster; its ${this.kinds.plurals.join('/')} are read once they are installed`);
        }
        const t = setTimeout(() => { this.retries.delete(t); if (!this.stopped) void inf.start().catch(() => undefined); }, missing ? 5000 : 1000);
        t.unref();
        this.retries.add(t);
      });
      this.informers.push(inf);
      // a failed first list is reported through 'error' (retried there); do not fail the whole watcher
      await inf.start().catch(() => undefined);
    }
  }

  objects(): KubeObject[] {
    return this.informers.flatMap((i) => i.list() as KubeObject[]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.retries) clearTimeout(t);
    this.retries.clear();
    for (const i of this.informers) await i.stop();
  }
}
