// What federation keeps of each watched object: only the fields the merge and the replication plan read.
// The informer caches the very object it hands to its callbacks, so slimming it there (in place: the cache keeps its
// identity, resourceVersion, namespace and name) is what decides the watcher's memory — a Pod's spec and status, a
// Node's status (image lists), managedFields and kubectl's last-applied copy are most of an object's size.
import type * as k8s from '@kubernetes/client-node';
import { ANNOTATIONS } from './labels.ts';

export type WatchedKind = 'namespaces' | 'services' | 'endpointSlices' | 'pods' | 'nodes';

type Meta = k8s.V1ObjectMeta;

/** Identity and labels, and of the annotations only those named (fresh objects: no deleted-property slow paths). */
function meta(m: Meta | undefined, annotations: readonly string[]): Meta {
  const out: Meta = {};
  if (m === undefined) return out;
  if (m.name !== undefined) out.name = m.name;
  if (m.namespace !== undefined) out.namespace = m.namespace;
  if (m.uid !== undefined) out.uid = m.uid;
  if (m.resourceVersion !== undefined) out.resourceVersion = m.resourceVersion;
  if (m.creationTimestamp !== undefined) out.creationTimestamp = m.creationTimestamp;
  if (m.deletionTimestamp !== undefined) out.deletionTimestamp = m.deletionTimestamp;
  if (m.labels !== undefined) out.labels = m.labels;
  const kept: Record<string, string> = {};
  let any = false;
  for (const a of annotations) {
    const v = m.annotations?.[a];
    if (v !== undefined) { kept[a] = v; any = true; }
  }
  if (any) out.annotations = kept;
  return out;
}

/** Reduce a watched object, in place, to what federation reads. Returns the same object. */
export function slim<T extends k8s.KubernetesObject>(kind: WatchedKind, obj: T): T {
  switch (kind) {
    case 'pods': {
      const p = obj as k8s.V1Pod;
      p.metadata = meta(p.metadata, [ANNOTATIONS.inboundPort]);
      const spec: k8s.V1PodSpec = { containers: [] };
      if (p.spec?.serviceAccountName !== undefined) spec.serviceAccountName = p.spec.serviceAccountName;
      if (p.spec?.nodeName !== undefined) spec.nodeName = p.spec.nodeName;
      p.spec = spec;
      if (p.status) p.status = p.status.phase === undefined ? {} : { phase: p.status.phase };
      return obj;
    }
    case 'services': {
      const s = obj as k8s.V1Service;
      s.metadata = meta(s.metadata, [ANNOTATIONS.sourceClusters]);
      if (s.spec) {
        const spec: k8s.V1ServiceSpec = {};
        if (s.spec.type !== undefined) spec.type = s.spec.type;
        if (s.spec.ports !== undefined) spec.ports = s.spec.ports;
        if (s.spec.selector !== undefined) spec.selector = s.spec.selector;
        if (s.spec.externalIPs !== undefined) spec.externalIPs = s.spec.externalIPs;
        s.spec = spec;
      }
      const ingress = s.status?.loadBalancer?.ingress;
      if (s.status) s.status = ingress ? { loadBalancer: { ingress } } : {};
      return obj;
    }
    case 'nodes': {
      const n = obj as k8s.V1Node;
      n.metadata = meta(n.metadata, []);
      if (n.spec) n.spec = {};
      if (n.status) n.status = {};
      return obj;
    }
    case 'namespaces': {
      const n = obj as k8s.V1Namespace;
      n.metadata = meta(n.metadata, []);
      if (n.status) n.status = n.status.phase === undefined ? {} : { phase: n.status.phase };
      return obj;
    }
    case 'endpointSlices':
      obj.metadata = meta(obj.metadata, []);
      return obj;
  }
}
