// Policy objects of some kinds, watched in the control-plane cluster and in every member cluster the federation names:
// one ClusterPolicyWatch per cluster and kind, started and stopped as members join, change credentials or leave.
// Traffic policy (VirtualService, DestinationRule) and security policy (AuthorizationPolicy, PeerAuthentication,
// ServiceEntry, Sidecar) both read their objects through one of these.
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import type { WatchTiming } from '../kube/informer.ts';
import { ClusterPolicyWatch, type PolicyKinds } from './clusterWatch.ts';
import type { PolicySource } from './merge.ts';

/** Where the member clusters come from (the Federation is one): the current set, and a call on every change. */
export interface PolicyMembers {
  /** cluster name → the narrow kubeconfig to read it with */
  memberKubeConfigs(): ReadonlyMap<string, k8s.KubeConfig>;
  /** `cb` runs whenever a member is added, re-added with new credentials, or removed; returns an unsubscribe */
  onMembers(cb: () => void): () => void;
}

export interface PolicyWatchSetOptions {
  /** what is watched, for logs: "traffic policy" */
  what: string;
  kubeConfig: k8s.KubeConfig;
  members?: PolicyMembers;
  /** the kinds, each watched in every cluster (undefined: VirtualServices and DestinationRules) */
  kinds?: readonly PolicyKinds[];
  timing?: WatchTiming;
  /** any object changed in any cluster */
  changed: () => void;
  log: Logger;
}

interface ClusterWatches { kubeConfig: k8s.KubeConfig; watches: ClusterPolicyWatch[] }

export class PolicyWatchSet {
  private controlPlane: ClusterWatches | undefined;
  private readonly members = new Map<string, ClusterWatches>();
  private unsubscribe?: () => void;
  private syncing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly o: PolicyWatchSetOptions) {}

  /** Resolves once the control plane's objects are listed (members list in the background and keep retrying). */
  async start(): Promise<void> {
    this.controlPlane = this.watch('', this.o.kubeConfig);
    await Promise.all(this.controlPlane.watches.map((w) => w.start()));
    if (this.o.members) {
      this.unsubscribe = this.o.members.onMembers(() => { void this.syncMembers(); });
      await this.syncMembers();
    }
  }

  /** Starts watches for new member clusters (or changed credentials) and stops those of departed ones. */
  syncMembers(): Promise<void> {
    this.syncing = this.syncing.then(async () => {
      if (this.stopped || !this.o.members) return;
      let want: ReadonlyMap<string, k8s.KubeConfig>;
      try { want = this.o.members.memberKubeConfigs(); } catch (e) {
        this.o.log.warn({ err: (e as Error).message }, `could not list member clusters for ${this.o.what}; keeping the current set`);
        return;
      }
      let changed = false;
      for (const [name, m] of this.members) {
        if (want.get(name) === m.kubeConfig) continue;
        this.members.delete(name);
        for (const w of m.watches) await w.stop();
        changed = true;
        this.o.log.info({ cluster: name }, `stopped reading ${this.o.what} from member cluster`);
      }
      for (const [name, kc] of want) {
        if (this.members.has(name) || this.stopped) continue;
        const m = this.watch(name, kc);
        this.members.set(name, m);
        // not awaited: a member that does not answer must not hold up the others (its informers keep retrying)
        for (const w of m.watches) void w.start();
        changed = true;
        this.o.log.info({ cluster: name }, `reading ${this.o.what} from member cluster`);
      }
      if (changed) this.o.changed();
    });
    return this.syncing;
  }

  /** Every cluster's objects: the control plane first (''), then members by name — the order mergeSources ranks. */
  sources(): PolicySource[] {
    const objects = (c: ClusterWatches) => c.watches.flatMap((w) => w.objects());
    const out: PolicySource[] = this.controlPlane ? [{ cluster: '', objects: objects(this.controlPlane) }] : [];
    for (const name of [...this.members.keys()].sort()) out.push({ cluster: name, objects: objects(this.members.get(name)!) });
    return out;
  }

  /** The credentials to write an object's status with in the cluster it came from ('' = control plane). */
  kubeConfigOf(cluster: string): k8s.KubeConfig | undefined {
    return cluster === '' ? this.o.kubeConfig : this.members.get(cluster)?.kubeConfig;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    await this.syncing;
    for (const c of [...(this.controlPlane ? [this.controlPlane] : []), ...this.members.values()]) for (const w of c.watches) await w.stop();
    this.members.clear();
  }

  private watch(cluster: string, kubeConfig: k8s.KubeConfig): ClusterWatches {
    const kinds = this.o.kinds ?? [undefined];
    return {
      kubeConfig,
      watches: kinds.map((k) => new ClusterPolicyWatch(cluster, kubeConfig, this.o.changed, this.o.log, { what: this.o.what, ...(k ? { kinds: k } : {}), ...(this.o.timing ? { timing: this.o.timing } : {}) })),
    };
  }
}

/**
 * Creates the CRDs the control-plane cluster lacks (a locked-down install without the right keeps working once they
 * exist). A write like any other: with several replicas only the leader sends it, so `mayWrite` is asked right before
 * each create; the CRDs it refused are returned (the leader installs them). A create that finds the CRD made meanwhile
 * (409, another replica was first) counts as installed.
 */
export async function installMissingCrds(kubeConfig: k8s.KubeConfig, crds: readonly { apiVersion: string; kind: string; metadata: { name: string } }[], log: Logger, mayWrite?: () => boolean): Promise<{ fenced: string[] }> {
  const api = k8s.KubernetesObjectApi.makeApiClient(kubeConfig);
  const fenced: string[] = [];
  for (const crd of crds) {
    try {
      await api.read({ apiVersion: crd.apiVersion, kind: crd.kind, metadata: { name: crd.metadata.name } });
    } catch (e) {
      if ((e as { code?: number }).code !== 404) throw new Error(`cannot read CRD ${crd.metadata.name}: ${(e as Error).message}`);
      if (mayWrite && !mayWrite()) { fenced.push(crd.metadata.name); continue; }
      try {
        await api.create(crd as unknown as k8s.KubernetesObject);
        log.info({ crd: crd.metadata.name }, 'installed CRD');
      } catch (c) {
        if ((c as { code?: number }).code !== 409) throw c;
      }
    }
  }
  return { fenced };
}
