// Which merged services an object change can affect, so that one EndpointSlice or Pod change recomputes one
// MeshService instead of all of them (the merge's `dirty` option). No I/O: fed by a cluster watcher's events.
import type * as k8s from '@kubernetes/client-node';
import { serviceKey } from '../mesh/types.ts';
import { LABELS } from './labels.ts';

const id = (o: k8s.KubernetesObject): string => serviceKey(o.metadata?.namespace ?? '', o.metadata?.name ?? '');

const labelsSig = (o: k8s.KubernetesObject | undefined): string => JSON.stringify(o?.metadata?.labels ?? {});

export class DirtyKeys {
  private keys = new Set<string>();
  private everything = true;
  /** EndpointSlice (namespace/name) → the service key it belonged to when last seen */
  private readonly sliceService = new Map<string, string>();
  /** EndpointSlice → the pods (namespace/name) its endpoints point at */
  private readonly slicePods = new Map<string, string[]>();
  /** Pod → the EndpointSlices that point at it */
  private readonly podSlices = new Map<string, Set<string>>();
  /** Node / Namespace → its labels when last seen: only a label change can change the merge */
  private readonly labels = new Map<string, string>();

  /** Everything may have changed (a Namespace or Node label, the cluster's state, a relist). */
  all(): void { this.everything = true; }

  service(svc: k8s.V1Service): void {
    this.keys.add(id(svc));
  }

  slice(slice: k8s.V1EndpointSlice, deleted: boolean): void {
    const sid = id(slice);
    const was = this.sliceService.get(sid);
    if (was !== undefined) this.keys.add(was);
    for (const p of this.slicePods.get(sid) ?? []) {
      const set = this.podSlices.get(p);
      set?.delete(sid);
      if (set?.size === 0) this.podSlices.delete(p);
    }
    this.slicePods.delete(sid);
    this.sliceService.delete(sid);
    if (deleted) return;
    const ns = slice.metadata?.namespace ?? '';
    const svc = slice.metadata?.labels?.[LABELS.serviceName];
    if (svc === undefined) return;
    const key = serviceKey(ns, svc);
    this.keys.add(key);
    this.sliceService.set(sid, key);
    const pods: string[] = [];
    for (const ep of slice.endpoints ?? []) {
      if (ep.targetRef?.kind !== 'Pod' || !ep.targetRef.name) continue;
      const p = serviceKey(ns, ep.targetRef.name);
      pods.push(p);
      let set = this.podSlices.get(p);
      if (!set) this.podSlices.set(p, (set = new Set()));
      set.add(sid);
    }
    if (pods.length) this.slicePods.set(sid, pods);
  }

  /** A Pod changed: the services whose slices point at it. */
  pod(pod: k8s.V1Pod): void {
    for (const sid of this.podSlices.get(id(pod)) ?? []) {
      const key = this.sliceService.get(sid);
      if (key !== undefined) this.keys.add(key);
    }
  }

  /** A Node or Namespace changed: everything, unless only its labels stayed the same on an update. */
  labelled(kind: 'node' | 'namespace', o: k8s.KubernetesObject, deleted: boolean): void {
    const k = `${kind}|${o.metadata?.name ?? ''}`;
    const sig = labelsSig(o);
    if (deleted) this.labels.delete(k);
    else if (this.labels.get(k) === sig) return;
    else this.labels.set(k, sig);
    this.everything = true;
  }

  /** The keys changed since the last call (undefined: assume all), and start collecting anew. */
  take(): ReadonlySet<string> | undefined {
    const out = this.everything ? undefined : this.keys;
    this.keys = new Set();
    this.everything = false;
    return out;
  }
}
