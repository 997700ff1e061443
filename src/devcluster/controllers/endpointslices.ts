// The EndpointSlice controller: for each Service with a selector, EndpointSlices built from its ready/unready Pods.
// `desiredSlices` is the pure decision; the controller diffs it against the store.
import { createHash } from 'node:crypto';
import { matchesLabels } from './match.ts';
import type { Store } from '../store.ts';
import type { KubeObject, StandinLog } from '../types.ts';
import type { Controller } from '../hookTypes.ts';
import { silentLog } from '../defaults.ts';

export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';

interface SvcPort { name?: string; protocol?: string; port: number; targetPort?: number | string; appProtocol?: string }
interface ContainerPort { name?: string; containerPort: number; protocol?: string }
interface SlicePort { name: string; protocol: string; port: number; appProtocol?: string }

const podReady = (p: KubeObject) => ((p.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** Resolve a Service's ports against one Pod's containers; a named targetPort the pod lacks drops that port. */
export function resolvePorts(svcPorts: SvcPort[], pod: KubeObject): SlicePort[] {
  const containers = ((pod.spec as { containers?: Array<{ ports?: ContainerPort[] }> } | undefined)?.containers ?? []);
  const cports = containers.flatMap((c) => c.ports ?? []);
  const out: SlicePort[] = [];
  for (const sp of svcPorts) {
    const protocol = sp.protocol ?? 'TCP';
    const tp = sp.targetPort ?? sp.port;
    let port: number | undefined;
    if (typeof tp === 'number') port = tp;
    else if (/^\d+$/.test(tp)) port = Number(tp);
    else port = cports.find((c) => c.name === tp && (c.protocol ?? 'TCP') === protocol)?.containerPort;
    if (port === undefined) continue;
    out.push({ name: sp.name ?? '', protocol, port, ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
  }
  return out;
}

/** Pure: the EndpointSlices a Service should have, given the Pods of its namespace and the cluster's Nodes. */
export function desiredSlices(svc: KubeObject, pods: KubeObject[], nodes: KubeObject[]): KubeObject[] {
  const spec = (svc.spec ?? {}) as { selector?: Record<string, string>; ports?: SvcPort[]; publishNotReadyAddresses?: boolean };
  if (!spec.selector || Object.keys(spec.selector).length === 0) return [];
  const zoneOf = new Map(nodes.map((n) => [n.metadata.name, n.metadata.labels?.['topology.kubernetes.io/zone']]));
  const groups = new Map<string, { ports: SlicePort[]; endpoints: unknown[] }>();
  const members = pods
    .filter((p) => matchesLabels(spec.selector!, p.metadata.labels ?? {}))
    .filter((p) => typeof (p.status as { podIP?: string } | undefined)?.podIP === 'string')
    .filter((p) => !['Succeeded', 'Failed'].includes(String((p.status as { phase?: string }).phase)))
    .sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)));
  for (const p of members) {
    const ports = resolvePorts(spec.ports ?? [], p);
    const key = JSON.stringify(ports);
    const g = groups.get(key) ?? { ports, endpoints: [] };
    groups.set(key, g);
    const terminating = !!p.metadata.deletionTimestamp;
    const ready = podReady(p) && !terminating;
    const nodeName = (p.spec as { nodeName?: string } | undefined)?.nodeName;
    const zone = nodeName ? zoneOf.get(nodeName) : undefined;
    g.endpoints.push({
      addresses: [(p.status as { podIP: string }).podIP],
      conditions: { ready: ready || (!!spec.publishNotReadyAddresses && !terminating), serving: podReady(p), terminating },
      ...(nodeName ? { nodeName } : {}),
      ...(zone ? { zone } : {}),
      targetRef: { kind: 'Pod', namespace: p.metadata.namespace, name: p.metadata.name, uid: p.metadata.uid },
    });
  }
  if (groups.size === 0) groups.set('[]', { ports: [], endpoints: [] });
  const svcName = String(svc.metadata.name);
  return [...groups.entries()].map(([key, g]) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${svcName}-${createHash('sha256').update(String(svc.metadata.uid) + key).digest('hex').slice(0, 5)}`,
      namespace: svc.metadata.namespace,
      labels: { [LABEL_SERVICE_NAME]: svcName, [LABEL_MANAGED_BY]: MANAGED_BY, ...(svc.metadata.labels ?? {}) },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: svcName, uid: svc.metadata.uid, controller: true, blockOwnerDeletion: true }],
    },
    addressType: 'IPv4',
    endpoints: g.endpoints,
    ports: g.ports,
  }));
}

const sameContent = (a: KubeObject, b: KubeObject) =>
  JSON.stringify([a.endpoints ?? [], a.ports ?? [], a.metadata.labels ?? {}]) === JSON.stringify([b.endpoints ?? [], b.ports ?? [], b.metadata.labels ?? {}]);

export function endpointSliceController(log: StandinLog = silentLog): Controller {
  const stops: Array<() => void> = [];
  let store: Store | undefined;
  let queued = false;
  // namespaces whose Services/Pods/slices changed since the last pass (all of them after a Node change)
  let dirty = new Set<string>();
  let all = true;
  const reconcileNamespace = (s: Store, ns: string, nodes: KubeObject[]): void => {
    const svcI = s.info('', 'services'), podI = s.info('', 'pods'), epsI = s.info('discovery.k8s.io', 'endpointslices');
    const pods = s.list(podI, ns).items;
    const services = s.list(svcI, ns).items;
    const existing = new Map(s.list(epsI, ns, { labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY}` }).items.map((e) => [String(e.metadata.name), e]));
    const want = new Set<string>();
    for (const svc of services) {
      for (const d of desiredSlices(svc, pods, nodes)) {
        const name = String(d.metadata.name);
        want.add(name);
        const cur = existing.get(name);
        try {
          if (!cur) s.create(epsI, ns, d);
          else if (!sameContent(cur, d)) s.update(epsI, ns, name, { ...cur, ...d, metadata: { ...cur.metadata, labels: d.metadata.labels } });
        } catch (e) {
          log.warn({ controller: 'endpointslices', cluster: s.cluster, slice: `${ns}/${name}`, err: (e as Error).message }, 'could not write EndpointSlice');
        }
      }
    }
    for (const [name] of existing) {
      if (want.has(name)) continue;
      try { s.delete(epsI, ns, name); } catch { /* already gone */ }
    }
  };
  const reconcile = () => {
    queued = false;
    const s = store;
    if (!s) return;
    const nodes = s.list(s.info('', 'nodes'), '').items;
    let namespaces = dirty;
    if (all) {
      namespaces = new Set<string>();
      for (const [g, p] of [['', 'services'], ['', 'pods'], ['discovery.k8s.io', 'endpointslices']] as const) {
        for (const o of s.list(s.info(g, p), '').items) namespaces.add(String(o.metadata.namespace));
      }
    }
    dirty = new Set();
    all = false;
    for (const ns of namespaces) reconcileNamespace(s, ns, nodes);
  };
  const kick = (ev?: { object?: unknown }) => {
    const ns = (ev?.object as KubeObject | undefined)?.metadata?.namespace;
    if (ns) dirty.add(String(ns)); else all = true;
    if (!queued) { queued = true; setImmediate(reconcile); }
  };
  return {
    start(s) {
      store = s;
      const rv = s.currentResourceVersion();
      for (const [g, p] of [['', 'services'], ['', 'pods'], ['', 'nodes'], ['discovery.k8s.io', 'endpointslices']] as const) {
        stops.push(s.watch(s.info(g, p), '', { resourceVersion: rv }, kick));
      }
      all = true;
      reconcile();
    },
    stop() { for (const f of stops.splice(0)) f(); store = undefined; },
  };
}
