// Reports every Deployment as rolled out and available, as kube-controller-manager would once its pods run
// (the stand-in runs no pods): status replicas and the Available/Progressing conditions, so that
// `kubectl rollout status` and `kubectl wait --for=condition=Available` return and `kubectl get deploy` shows 3/3.
import { createHash } from 'node:crypto';
import { silentLog } from '../defaults.ts';
import type { Store } from '../store.ts';
import type { KubeObject, StandinLog } from '../types.ts';
import type { Controller } from '../hookTypes.ts';


interface Condition { type: string; status: string; lastUpdateTime?: string; lastTransitionTime?: string; reason?: string; message?: string }
type Status = Record<string, unknown> & { conditions?: Condition[] };

/** Pure: the status a Deployment gets; conditions keep their times while their status does not change. */
export function deploymentStatus(d: KubeObject, now: string): Status {
  const spec = (d.spec ?? {}) as { replicas?: number; template?: unknown };
  const prev = ((d.status ?? {}) as Status).conditions ?? [];
  const n = spec.replicas ?? 1;
  const hash = createHash('sha256').update(JSON.stringify(spec.template ?? {})).digest('hex').slice(0, 10);
  const cond = (type: string, reason: string, message: string): Condition => {
    const old = prev.find((c) => c.type === type);
    const same = old && old.status === 'True' && old.reason === reason && old.message === message;
    return { type, status: 'True', lastUpdateTime: same ? old.lastUpdateTime : now, lastTransitionTime: old?.status === 'True' ? old.lastTransitionTime : now, reason, message };
  };
  const s: Status = { observedGeneration: d.metadata.generation ?? 1 };
  if (n > 0) Object.assign(s, { replicas: n, updatedReplicas: n, readyReplicas: n, availableReplicas: n });
  s.conditions = [
    cond('Available', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'),
    cond('Progressing', 'NewReplicaSetAvailable', `ReplicaSet "${d.metadata.name}-${hash}" has successfully progressed.`),
  ];
  return s;
}

export function deploymentController(log: StandinLog = silentLog): Controller {
  let store: Store | undefined;
  let stop: (() => void) | undefined;
  const reconcile = (d: KubeObject) => {
    if (!store || d.metadata.deletionTimestamp) return;
    const next = deploymentStatus(d, new Date().toISOString().replace(/\.\d+Z$/, 'Z'));
    if (JSON.stringify(next) === JSON.stringify(d.status ?? {})) return;
    try {
      const info = store.info('apps', 'deployments');
      store.mutate(info, d.metadata.namespace ?? '', d.metadata.name ?? '', (cur) => ({ ...cur, status: deploymentStatus(cur, new Date().toISOString().replace(/\.\d+Z$/, 'Z')) }), { subresource: 'status' });
    } catch (e) {
      log.info({ cluster: store.cluster, name: d.metadata.name, err: (e as Error).message }, 'deployment status not written');
    }
  };
  return {
    start(s) {
      store = s;
      stop = s.watch(s.info('apps', 'deployments'), '', {}, (e) => {
        if (e.type === 'ADDED' || e.type === 'MODIFIED') { const o = e.object as KubeObject; queueMicrotask(() => reconcile(o)); }
      });
    },
    stop() { stop?.(); stop = undefined; store = undefined; },
  };
}
