// The control plane's discovery: watches registration Secrets, runs one ClusterWatcher per member cluster, merges
// them into one MeshSnapshot on every change (coalesced for a few ms), and replicates Namespaces and Services.
import * as k8s from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { createLogger, type Logger } from '../log.ts';
import { emptySnapshot, type ClusterStatus, type MeshService, type MeshSnapshot } from '../mesh/types.ts';
import type { EventBus, MeshEventKind } from '../observe/events.ts';
import { Counter, Gauge, Histogram, metric } from '../observe/metrics.ts';
import { ClusterWatcher, type ClusterMeta } from './clusterWatcher.ts';
import { Informer, type WatchTiming } from '../kube/informer.ts';
import { OutageLog } from '../kube/outageLog.ts';
import { LABELS, SYSTEM_NAMESPACE } from './labels.ts';
import { MergeCache, mergeClusters } from './merge.ts';
import { parseRegistrationSecret } from './registrationSecret.ts';
import { planReplication, type ReplicationAction } from './replicationPlan.ts';
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
  /** informer timing (request deadlines, backoff, the liveness heartbeat) for every watch; defaults in src/kube/ */
  timing?: WatchTiming;
  log?: Logger;
}

interface Member { watcher: ClusterWatcher; fingerprint: string }

/** A member cluster joined (or its credentials changed: `added` again with the new KubeConfig) or left. */
export type MemberChange = { added: string; kubeConfig: k8s.KubeConfig } | { removed: string };

/** the longest a new replica waits for the second of its source's creation to pass */
const MAX_HOLD_MS = 2_000;
/** past that second by this much, for clocks a little apart (the member API servers stamp creationTimestamp) */
const HOLD_SLACK_MS = 50;

export class Federation {
  private readonly log: Logger;
  private readonly members = new Map<string, Member>();
  /** clusters whose Secret is broken: shown as 'error', never watched */
  private readonly broken = new Map<string, ClusterStatus>();
  private readonly listeners = new Set<(s: MeshSnapshot) => void>();
  private readonly memberListeners = new Set<(c: MemberChange) => void>();
  private current: MeshSnapshot;
  private version = 0;
  private timer?: NodeJS.Timeout;
  private resync?: NodeJS.Timeout;
  private holdTimer?: NodeJS.Timeout;
  private secrets?: Informer<k8s.V1Secret>;
  private replicating = false;
  private replicateAgain = false;
  private stopped = false;
  private lastMergeMs = 0;
  private conflicted = 0;
  private forcePlan = true;
  private lastPlanned?: ReplicationInput;
  /** this control plane's own merge cache and replica signatures: nothing is shared with another Federation */
  private readonly mergeCache = new MergeCache();
  private readonly replicaSigs = new WeakMap<MeshService, string>();
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
      // computed when scraped, from the live contact times (a quiet cluster rebuilds no snapshot)
      syncAge: metric(r, 'meshfed_federation_last_sync_age_seconds', (registers) => {
        const g: Gauge = new Gauge({
          name: 'meshfed_federation_last_sync_age_seconds',
          help: 'seconds since the control plane last heard from the member cluster\'s API server (a list, a watch event or bookmark, or the heartbeat that asks a quiet server every 2.5 s): near 0 on a healthy cluster, even an idle one; it grows only while the cluster does not answer',
          labelNames: ['cluster'], registers,
          collect: () => {
            g.reset();
            const now = Date.now();
            for (const c of this.clusters()) if (c.lastSync) g.set({ cluster: c.name }, Math.max(0, (now - Date.parse(c.lastSync)) / 1000));
          },
        });
        return g;
      }),
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
    const informer = new Informer<k8s.V1Secret>({ kubeConfig: this.o.kubeConfig, path: `/api/v1/namespaces/${ns}/secrets`, labelSelector: `${LABELS.multicluster}=true`, ...(this.o.timing ? { timing: this.o.timing } : {}) });
    this.secrets = informer;
    const outage = new OutageLog(`registration Secrets in the control-plane cluster (namespace ${ns})`, this.log);
    informer.on('add', (s) => this.onSecret(s));
    informer.on('update', (s) => this.onSecret(s));
    informer.on('delete', (s) => this.onSecretGone(s));
    informer.onHealth((e, h) => {
      if (this.stopped) return;
      if (e === 'failed' && h.error) outage.failed(h.error.state, h.error.reason);
      else outage.recovered();
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
    if (this.holdTimer) clearTimeout(this.holdTimer);
    await this.secrets?.stop();
    await Promise.all([...this.members.values()].map((m) => m.watcher.stop()));
    this.members.clear();
    this.listeners.clear();
    this.memberListeners.clear();
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

  /** Member clusters as the last snapshot has them, with `lastSync` live: the last answer from each one's API server. */
  clusters(): readonly ClusterStatus[] {
    const live = this.current.clusters.map((c) => {
      const t = this.members.get(c.name)?.watcher.lastContact();
      return t === undefined ? c : { ...c, lastSync: new Date(t).toISOString() };
    });
    return [...live, ...this.broken.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The member clusters watched now, with the narrow credentials federation reads them with. */
  memberKubeConfigs(): ReadonlyMap<string, k8s.KubeConfig> {
    return new Map([...this.members].map(([name, m]) => [name, m.watcher.kubeConfig]));
  }

  /** Told when a member cluster is added (or re-added with new credentials) or removed; returns an unsubscribe. */
  onMembers(cb: (change: MemberChange) => void): () => void {
    this.memberListeners.add(cb);
    return () => this.memberListeners.delete(cb);
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
    // the watcher logs its own state changes (one line each, quiet during an outage)
    const watcher = new ClusterWatcher(meta, kc, (what) => {
      if (what === 'state' && watcher.state !== last) {
        last = watcher.state;
        const st = watcher.status();
        this.emit(`cluster.${st.state}` as MeshEventKind, `cluster ${meta.name} ${st.state}${st.reason ? `: ${st.reason}` : ''}`, { cluster: meta.name, ...(st.reason ? { reason: st.reason } : {}) });
      }
      this.schedule();
    }, this.log, this.o.timing);
    this.members.set(meta.name, { watcher, fingerprint });
    this.emit('cluster.syncing', `cluster ${meta.name} added: syncing`, { cluster: meta.name });
    watcher.start();
    this.announce({ added: meta.name, kubeConfig: kc });
  }

  private removeMember(name: string, announce: boolean): void {
    const m = this.members.get(name);
    if (!m) return;
    this.members.delete(name);
    void m.watcher.stop();
    if (announce) this.emit('cluster.removed', `cluster ${name} removed from the federation`, { cluster: name });
    this.announce({ removed: name });
  }

  private announce(change: MemberChange): void {
    for (const l of this.memberListeners) {
      try { l(change); } catch (e) { this.log.error({ err: (e as Error).message }, 'member listener failed'); }
    }
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
      ...(dirty ? { dirty } : {}), cache: this.mergeCache,
    });
    this.lastMergeMs = performance.now() - t0;
    this.m.merge.observe(this.lastMergeMs / 1000);
    const prev = this.current;
    this.current = next;
    const changed = this.mergeCache.changedServices(prev, next);
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
        if (!this.forcePlan && sameReplicationInput(this.lastPlanned, input, this.replicaSigs)) continue;
        this.forcePlan = false;
        this.lastPlanned = input;
        let actions = planReplication(this.current, objects);
        // until every member has synced once, a missing source may just not be listed yet: no deletions
        if (!watchers.every((w) => w.synced)) actions = actions.filter((a) => !a.op.startsWith('delete'));
        actions = this.holdBack(actions);
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

  /**
   * Replicas whose source was created this very second wait for the next one (see ReplicationAction.notBefore); a
   * re-plan is scheduled for then. A source stamped more than MAX_HOLD_MS ahead is a skewed clock: not waited for.
   */
  private holdBack(actions: ReplicationAction[]): ReplicationAction[] {
    const now = Date.now();
    const waiting = (a: ReplicationAction) => a.op === 'apply-service' && a.notBefore !== undefined && a.notBefore + HOLD_SLACK_MS > now && a.notBefore - now <= MAX_HOLD_MS;
    const held = actions.filter(waiting);
    if (!held.length) return actions;
    const at = Math.min(...held.map((a) => (a as { notBefore: number }).notBefore));
    this.forcePlan = true;
    if (!this.holdTimer) {
      this.holdTimer = setTimeout(() => { this.holdTimer = undefined; this.schedule(); }, at - now + HOLD_SLACK_MS);
      this.holdTimer.unref();
    }
    return actions.filter((a) => !waiting(a));
  }

  private updateMetrics(prev: MeshSnapshot, s: MeshSnapshot, changed: ReadonlySet<string> | undefined): void {
    this.m.state.reset();
    this.m.objects.reset();
    for (const c of [...s.clusters, ...this.broken.values()]) {
      this.m.state.set({ cluster: c.name, state: c.state }, 1);
      this.m.objects.set({ cluster: c.name, kind: 'services' }, c.services);
      this.m.objects.set({ cluster: c.name, kind: 'endpoints' }, c.endpoints);
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
