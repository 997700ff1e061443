// The control plane's discovery: watches registration Secrets, runs one ClusterWatcher per member cluster, merges
// them into one MeshSnapshot on every change (coalesced for a few ms), and replicates Namespaces and Services.
import * as k8s from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { createLogger, type Logger } from '../log.ts';
import { emptySnapshot, type ClusterStatus, type MeshSnapshot } from '../mesh/types.ts';
import type { EventBus, MeshEventKind } from '../observe/events.ts';
import { Counter, Gauge, Histogram, metric } from '../observe/metrics.ts';
import { ClusterWatcher, type ClusterMeta } from './clusterWatcher.ts';
import { LABELS, SYSTEM_NAMESPACE } from './labels.ts';
import { changedServices, mergeClusters } from './merge.ts';
import { parseRegistrationSecret } from './registrationSecret.ts';
import { planReplication } from './replicationPlan.ts';
import { Replicator } from './replicator.ts';
import { keepAlive } from '../kube/keepAlive.ts';
import { replicationInput, sameReplicationInput, type ReplicationInput } from './replicationInput.ts';
import { snapshotEvents } from './snapshotEvents.ts';

export interface FederationOptions {
  /** control-plane cluster: registration Secrets live here */
  kubeConfig: k8s.KubeConfig;
  namespace?: string;
  /** also watch the control-plane cluster itself as a member, with kubeConfig */
  local?: { name: string; network: string; region: string };
  federateAll?: boolean;
  replicate?: boolean;
  trustDomain?: string;
  domainSuffix?: string;
  failover?: Readonly<Record<string, readonly string[]>>;
  registry: Registry;
  events: EventBus;
  /** periodic replication check (level-triggered repair), default 60 s */
  resyncMs?: number;
  /** coalescing window for snapshot rebuilds, default 5 ms */
  coalesceMs?: number;
  /** may this replica write to member clusters now (leader election)? Checked before each write; default: always */
  writeFence?: () => boolean;
  /** does this replica lead (no pass is planned otherwise)? default: writeFence */
  leading?: () => boolean;
  /** User-Agent of replication writes (names the replica in the apiservers' audit logs) */
  userAgent?: string;
  log?: Logger;
}

interface Member { watcher: ClusterWatcher; fingerprint: string }

export class Federation {
  private readonly log: Logger;
  private readonly members = new Map<string, Member>();
  /** clusters whose Secret is broken: shown as 'error', never watched */
  private readonly broken = new Map<string, ClusterStatus>();
  private readonly listeners = new Set<(s: MeshSnapshot) => void>();
  private current: MeshSnapshot;
  private version = 0;
  private timer?: NodeJS.Timeout;
  private resync?: NodeJS.Timeout;
  private secrets?: k8s.Informer<k8s.V1Secret> & k8s.ObjectCache<k8s.V1Secret>;
  private replicating = false;
  private replicateAgain = false;
  private stopped = false;
  private lastMergeMs = 0;
  private conflicted = 0;
  private forcePlan = true;
  private lastPlanned?: ReplicationInput;
  private readonly replicator: Replicator;
  private readonly m: { state: Gauge; objects: Gauge; syncAge: Gauge; conflicts: Gauge; merge: Histogram };

  constructor(private readonly o: FederationOptions) {
    keepAlive(o.kubeConfig);
    this.log = o.log ?? createLogger('federation');
    this.current = emptySnapshot({ trustDomain: o.trustDomain ?? 'cluster.local', domainSuffix: o.domainSuffix ?? 'cluster.local', failover: o.failover ?? {} });
    const r = o.registry;
    this.m = {
      state: metric(r, 'meshfed_federation_cluster_state', (registers) => new Gauge({ name: 'meshfed_federation_cluster_state', help: 'member cluster state (1 for the current state)', labelNames: ['cluster', 'state'], registers })),
      objects: metric(r, 'meshfed_federation_objects', (registers) => new Gauge({ name: 'meshfed_federation_objects', help: 'federated services and endpoints per member cluster', labelNames: ['cluster', 'kind'], registers })),
      syncAge: metric(r, 'meshfed_federation_last_sync_age_seconds', (registers) => new Gauge({ name: 'meshfed_federation_last_sync_age_seconds', help: 'seconds since the cluster last completed a sync', labelNames: ['cluster'], registers })),
      conflicts: metric(r, 'meshfed_federation_port_conflicts', (registers) => new Gauge({ name: 'meshfed_federation_port_conflicts', help: 'services whose ports differ between clusters (the oldest definition wins)', registers })),
      merge: metric(r, 'meshfed_federation_merge_seconds', (registers) => new Histogram({ name: 'meshfed_federation_merge_seconds', help: 'time to rebuild the merged snapshot', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers })),
    };
    const writes = metric(r, 'meshfed_replication_writes_total', (registers) => new Counter({ name: 'meshfed_replication_writes_total', help: 'replication writes by cluster, operation and result (ok, conflict, error)', labelNames: ['cluster', 'op', 'result'], registers }));
    this.replicator = new Replicator((c) => this.kubeConfigFor(c), writes, this.log, Date.now, { ...(o.writeFence ? { fence: o.writeFence } : {}), ...(o.userAgent ? { userAgent: o.userAgent } : {}) });
  }

  async start(): Promise<void> {
    const ns = this.o.namespace ?? SYSTEM_NAMESPACE;
    if (this.o.local) {
      const server = this.o.kubeConfig.getCurrentCluster()?.server ?? '';
      this.addMember({ ...this.o.local, server }, this.o.kubeConfig, 'local');
    }
    const core = this.o.kubeConfig.makeApiClient(k8s.CoreV1Api);
    const selector = `${LABELS.multicluster}=true`;
    const informer = k8s.makeInformer(this.o.kubeConfig, `/api/v1/namespaces/${ns}/secrets`, () => core.listNamespacedSecret({ namespace: ns, labelSelector: selector }), selector);
    this.secrets = informer;
    informer.on('add', (s) => this.onSecret(s));
    informer.on('update', (s) => this.onSecret(s));
    informer.on('delete', (s) => this.onSecretGone(s));
    informer.on('error', (err: unknown) => {
      if (this.stopped) return;
      this.log.warn({ err: (err as Error).message }, 'watching registration Secrets failed; retrying');
      setTimeout(() => { if (!this.stopped) void informer.start(); }, 1000).unref();
    });
    await informer.start();
    const every = this.o.resyncMs ?? 60_000;
    this.resync = setInterval(() => { this.forcePlan = true; this.schedule(); }, every);
    this.resync.unref();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.resync) clearInterval(this.resync);
    await this.secrets?.stop();
    await Promise.all([...this.members.values()].map((m) => m.watcher.stop()));
    this.members.clear();
    this.listeners.clear();
  }

  snapshot(): MeshSnapshot { return this.current; }

  /** Plan replication in full now (e.g. this replica just became the leader). */
  replicateNow(): void {
    this.forcePlan = true;
    this.schedule();
  }

  onSnapshot(cb: (s: MeshSnapshot) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  clusters(): readonly ClusterStatus[] {
    return [...this.current.clusters, ...this.broken.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  kubeConfigFor(cluster: string): k8s.KubeConfig | undefined {
    return this.members.get(cluster)?.watcher.kubeConfig;
  }

  /** Ready: every member has synced AND the snapshot served (to pilot, to proxies) already reflects that. */
  ready(): { ready: boolean; reasons: string[] } {
    const reasons = [...this.members.values()].filter((m) => !m.watcher.synced).map((m) => `cluster ${m.watcher.meta.name} has not synced yet (${m.watcher.state})`);
    if (reasons.length === 0) {
      const served = new Map(this.current.clusters.map((c) => [c.name, c.state]));
      for (const name of this.members.keys()) {
        const st = served.get(name);
        if (st === undefined || st === 'syncing') reasons.push(`the served snapshot does not include cluster ${name} yet`);
      }
    }
    return { ready: reasons.length === 0, reasons };
  }

  async whenSynced(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = this.ready();
      // the snapshot must also reflect the synced state
      if (r.ready && this.current.clusters.length === this.members.size && this.current.clusters.every((c) => c.state !== 'syncing')) return;
      if (Date.now() > deadline) throw new Error(`clusters not synced after ${timeoutMs} ms: ${r.reasons.join('; ') || 'snapshot not rebuilt yet'}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  }

  private onSecret(s: k8s.V1Secret): void {
    const r = parseRegistrationSecret(s);
    if (!r.ok) {
      this.removeMember(r.name, false);
      const status: ClusterStatus = { name: r.name, server: '', network: '', region: '', state: 'error', since: new Date().toISOString(), reason: r.error, services: 0, endpoints: 0 };
      this.broken.set(r.name, status);
      this.log.warn({ cluster: r.name, reason: r.error }, 'cluster registration is broken');
      this.emit('cluster.error', `cluster ${r.name}: ${r.error}`, { cluster: r.name });
      this.schedule();
      return;
    }
    this.broken.delete(r.reg.name);
    const have = this.members.get(r.reg.name);
    if (have?.fingerprint === r.reg.fingerprint) return;
    if (have) this.removeMember(r.reg.name, false);
    this.addMember({ name: r.reg.name, server: r.reg.server, network: r.reg.network, region: r.reg.region }, r.reg.kubeConfig, r.reg.fingerprint);
  }

  private onSecretGone(s: k8s.V1Secret): void {
    const r = parseRegistrationSecret(s);
    this.broken.delete(r.ok ? r.reg.name : r.name);
    this.removeMember(r.ok ? r.reg.name : r.name, true);
    this.schedule();
  }

  private addMember(meta: ClusterMeta, kc: k8s.KubeConfig, fingerprint: string): void {
    if (this.members.has(meta.name)) return;
    let last = 'syncing';
    const watcher = new ClusterWatcher(meta, kc, (what) => {
      if (what === 'state' && watcher.state !== last) {
        last = watcher.state;
        const st = watcher.status();
        this.emit(`cluster.${st.state}` as MeshEventKind, `cluster ${meta.name} ${st.state}${st.reason ? `: ${st.reason}` : ''}`, { cluster: meta.name, ...(st.reason ? { reason: st.reason } : {}) });
        this.log.info({ cluster: meta.name, state: st.state, reason: st.reason }, 'cluster state');
      }
      this.schedule();
    }, this.log);
    this.members.set(meta.name, { watcher, fingerprint });
    this.emit('cluster.syncing', `cluster ${meta.name} added: syncing`, { cluster: meta.name });
    watcher.start();
  }

  private removeMember(name: string, announce: boolean): void {
    const m = this.members.get(name);
    if (!m) return;
    this.members.delete(name);
    void m.watcher.stop();
    if (announce) this.emit('cluster.removed', `cluster ${name} removed from the federation`, { cluster: name });
  }

  /** Coalesce bursts of informer events into one rebuild. */
  private schedule(): void {
    if (this.stopped || this.timer) return;
    // under a storm of events (bulk replication) merging back to back would starve everything else: wait at least
    // as long as the last merge took, so merging uses at most about half of the time
    this.timer = setTimeout(() => { this.timer = undefined; this.rebuild(); }, Math.max(this.o.coalesceMs ?? 5, this.lastMergeMs));
  }

  private rebuild(): void {
    const t0 = performance.now();
    const watchers = [...this.members.values()].map((m) => m.watcher);
    // the service keys that changed in any cluster (undefined: merge in full); the merge also falls back to a full
    // merge by itself when a cluster was added or removed or changed state
    let dirty: Set<string> | undefined = new Set();
    for (const w of watchers) {
      const d = w.takeDirty();
      if (!d) dirty = undefined;
      else if (dirty) for (const k of d) dirty.add(k);
    }
    const next = mergeClusters(watchers.map((w) => w.view()), {
      version: ++this.version, now: new Date(),
      trustDomain: this.o.trustDomain ?? 'cluster.local', domainSuffix: this.o.domainSuffix ?? 'cluster.local',
      federateAll: this.o.federateAll ?? false, failover: this.o.failover ?? {}, previous: this.current,
      ...(dirty ? { dirty } : {}),
    });
    this.lastMergeMs = performance.now() - t0;
    this.m.merge.observe(this.lastMergeMs / 1000);
    const prev = this.current;
    this.current = next;
    const changed = changedServices(prev, next);
    this.updateMetrics(prev, next, changed);
    for (const e of snapshotEvents(prev, next, changed)) this.emit(e.kind, e.message, e.data);
    for (const l of this.listeners) {
      try { l(next); } catch (e) { this.log.error({ err: (e as Error).message }, 'snapshot listener failed'); }
    }
    if (this.o.replicate !== false) void this.replicate();
  }

  private async replicate(): Promise<void> {
    if (this.replicating) { this.replicateAgain = true; return; }
    // only the leader writes; a follower plans in full once it leads (replicateNow)
    const leading = this.o.leading ?? this.o.writeFence;
    if (leading && !leading()) { this.forcePlan = true; return; }
    this.replicating = true;
    try {
      do {
        this.replicateAgain = false;
        // the members as they are now: one may have been added or removed while the last pass was writing
        const watchers = [...this.members.values()].map((m) => m.watcher);
        const ready = watchers.filter((w) => w.state === 'connected');
        const objects = ready.map((w) => w.objects());
        // planning walks every service of every cluster: skip it when nothing it reads changed (endpoint-only
        // changes, the most frequent kind); the periodic resync plans anyway, to repair drift
        const input = replicationInput(this.current, objects);
        if (!this.forcePlan && sameReplicationInput(this.lastPlanned, input)) continue;
        this.forcePlan = false;
        this.lastPlanned = input;
        let actions = planReplication(this.current, objects);
        // until every member has synced once, a missing source may just not be listed yet: no deletions
        if (!watchers.every((w) => w.synced)) actions = actions.filter((a) => !a.op.startsWith('delete'));
        if (actions.length) {
          const t0 = performance.now();
          const r = await this.replicator.apply(actions);
          if (r.written || r.failed) this.log.info({ writes: r.written, failed: r.failed, planned: actions.length, ms: Math.round(performance.now() - t0) }, 'replication pass');
          if (r.fenced) this.forcePlan = true; // lost the lease mid-pass: plan in full when leading again
          if (r.failed && !this.stopped) {
            // retry what failed (a conflict, an unreachable cluster) after a pause, even if nothing else changes
            this.forcePlan = true;
            setTimeout(() => this.schedule(), 1000).unref();
          }
        }
      } while (this.replicateAgain && !this.stopped);
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'replication pass failed');
    } finally {
      this.replicating = false;
    }
  }

  private updateMetrics(prev: MeshSnapshot, s: MeshSnapshot, changed: ReadonlySet<string> | undefined): void {
    this.m.state.reset();
    this.m.objects.reset();
    this.m.syncAge.reset();
    for (const c of [...s.clusters, ...this.broken.values()]) {
      this.m.state.set({ cluster: c.name, state: c.state }, 1);
      this.m.objects.set({ cluster: c.name, kind: 'services' }, c.services);
      this.m.objects.set({ cluster: c.name, kind: 'endpoints' }, c.endpoints);
      if (c.lastSync) this.m.syncAge.set({ cluster: c.name }, (Date.now() - Date.parse(c.lastSync)) / 1000);
    }
    // services with port conflicts: counted in full, or adjusted by the few services a dirty-key merge changed
    if (changed) {
      for (const k of changed) this.conflicted += Number((s.services.get(k)?.conflicts.length ?? 0) > 0) - Number((prev.services.get(k)?.conflicts.length ?? 0) > 0);
    } else {
      this.conflicted = 0;
      for (const svc of s.services.values()) if (svc.conflicts.length) this.conflicted++;
    }
    this.m.conflicts.set(this.conflicted);
  }

  private emit(kind: MeshEventKind, message: string, data?: Record<string, unknown>): void {
    this.o.events.publish(kind, message, data);
  }
}
