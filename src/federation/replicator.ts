// Applies replication actions with server-side apply (field manager `meshfed`). Level-triggered: the plan already
// skips what is up to date; this also skips an identical write still in flight or just done (the informer has not
// caught up yet), so a steady state makes zero writes and bursts make one write per object.
import type * as k8s from '@kubernetes/client-node';
import type { Counter } from 'prom-client';
import type { Logger } from '../log.ts';
import { FIELD_MANAGER, isReplicaService } from './labels.ts';
import { FencedError, KubeWriterAgents, kubeWriter, objectPath, type KubeWriter } from './kubeWriter.ts';
import type { ReplicationAction } from './replicationPlan.ts';

const RECENT_MS = 3_000;
const WRITES_IN_FLIGHT = 8;

export function actionKey(a: ReplicationAction): string {
  switch (a.op) {
    case 'apply-namespace':
    case 'delete-namespace': return `${a.cluster}|ns|${a.name}`;
    default: return `${a.cluster}|svc|${a.namespace}/${a.name}`;
  }
}

function actionSignature(a: ReplicationAction): string {
  return a.op.startsWith('apply') ? `${a.op}|${JSON.stringify((a as { body: unknown }).body)}` : a.op;
}

export class Replicator {
  private readonly recent = new Map<string, { sig: string; at: number }>();
  private readonly agents = new KubeWriterAgents();

  constructor(
    private readonly kubeConfigFor: (cluster: string) => k8s.KubeConfig | undefined,
    private readonly writes: Counter<'cluster' | 'op' | 'result'>,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    /** fence: may this replica still write (leader election)? checked right before each request is sent */
    private readonly opts: { fence?: () => boolean; userAgent?: string } = {},
  ) {}

  /** Runs the actions (in order per cluster, clusters in parallel); returns how many writes were made and failed. */
  async apply(actions: readonly ReplicationAction[]): Promise<{ written: number; failed: number; fenced: number }> {
    const t = this.now();
    for (const [k, v] of this.recent) if (t - v.at > RECENT_MS) this.recent.delete(k);
    const todo = actions.filter((a) => this.recent.get(actionKey(a))?.sig !== actionSignature(a));
    const byCluster = new Map<string, ReplicationAction[]>();
    for (const a of todo) {
      const l = byCluster.get(a.cluster);
      if (l) l.push(a); else byCluster.set(a.cluster, [a]);
    }
    let written = 0;
    let failed = 0;
    let fenced = 0;
    await Promise.all([...byCluster].map(async ([cluster, list]) => {
      const kc = this.kubeConfigFor(cluster);
      if (!kc) return;
      const api = kubeWriter(kc, this.agents, this.opts);
      // Namespaces before the Services that live in them; then a few writes in flight per cluster
      const lanes = [list.filter((a) => a.op === 'apply-namespace'), list.filter((a) => a.op !== 'apply-namespace' && a.op !== 'delete-namespace'), list.filter((a) => a.op === 'delete-namespace')];
      for (const lane of lanes) {
        let next = 0;
        await Promise.all(Array.from({ length: Math.min(WRITES_IN_FLIGHT, lane.length) }, async () => {
          while (next < lane.length) {
            const a = lane[next++]!;
            const r = await this.write(api, cluster, a);
            if (r === 'ok') written++; else if (r === 'failed') failed++; else if (r === 'fenced') fenced++;
          }
        }));
      }
    }));
    return { written, failed, fenced };
  }

  private async write(api: KubeWriter, cluster: string, a: ReplicationAction): Promise<'ok' | 'noop' | 'failed' | 'fenced'> {
    // no longer the leader: the rest of the pass is left to the replica that leads now
    if (this.opts.fence && !this.opts.fence()) return 'fenced';
    this.recent.set(actionKey(a), { sig: actionSignature(a), at: this.now() });
    try {
      await this.one(api, a);
      this.writes.inc({ cluster, op: a.op, result: 'ok' });
      this.log.debug({ cluster, op: a.op, object: actionKey(a).split('|')[2] }, 'replicated');
      return 'ok';
    } catch (e) {
      const code = (e as { code?: number }).code;
      if (e instanceof FencedError) { this.recent.delete(actionKey(a)); return 'fenced'; }
      if (a.op.startsWith('delete') && code === 404) return 'noop'; // already gone: the goal is reached
      this.recent.delete(actionKey(a)); // retry on the next pass
      this.writes.inc({ cluster, op: a.op, result: code === 409 ? 'conflict' : 'error' });
      this.log.warn({ cluster, op: a.op, object: actionKey(a).split('|')[2], err: (e as Error).message }, 'replication write failed');
      return 'failed';
    }
  }

  private async one(api: KubeWriter, a: ReplicationAction): Promise<void> {
    switch (a.op) {
      case 'apply-namespace':
      case 'apply-service': {
        const path = a.op === 'apply-namespace' ? objectPath('Namespace', a.name) : objectPath('Service', a.name, a.namespace);
        // the plan came from the informer cache: an object someone created since then is theirs, never merged into
        const live = await api.get(path);
        if (live && (a.op === 'apply-namespace' || !isReplicaService(live as k8s.V1Service))) throw Object.assign(new Error('a native object of that name exists; left alone'), { code: 409 });
        await api.apply(path, a.body, FIELD_MANAGER);
        return;
      }
      case 'release-service':
        // server-side apply of nothing under meshfed's field manager: the fields only meshfed owned go (its label,
        // annotation, ports the user did not also apply); what the user applied stays
        await api.apply(objectPath('Service', a.name, a.namespace), { apiVersion: 'v1', kind: 'Service', metadata: { name: a.name, namespace: a.namespace } }, FIELD_MANAGER);
        return;
      case 'delete-service':
        await api.delete(objectPath('Service', a.name, a.namespace));
        return;
      case 'delete-namespace':
        await api.delete(objectPath('Namespace', a.name));
    }
  }
}
