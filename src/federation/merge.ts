// Pure merge of per-cluster Kubernetes state into one immutable MeshSnapshot. No I/O.
import type * as k8s from '@kubernetes/client-node';
import type {
  ClusterStatus, Endpoint, Gateway, Locality, MeshService, MeshSnapshot, PortConflict, Protocol, ServicePort, TlsMode,
} from '../mesh/types.ts';
import { serviceKey } from '../mesh/types.ts';
import { PORTS, serviceHostname } from '../mesh/names.ts';
import { ANNOTATIONS, LABELS, isReplicaService, isSystemNamespace } from './labels.ts';

/** What federation knows about one member cluster: its registration, status and last-known objects. */
export interface ClusterView {
  status: ClusterStatus;
  namespaces: readonly k8s.V1Namespace[];
  services: readonly k8s.V1Service[];
  endpointSlices: readonly k8s.V1EndpointSlice[];
  pods: readonly k8s.V1Pod[];
  nodes: readonly k8s.V1Node[];
}

export interface MergeOptions {
  version: number;
  now: Date;
  trustDomain?: string;
  domainSuffix?: string;
  federateAll?: boolean;
  /** region → failover order from the topology config */
  failover?: Readonly<Record<string, readonly string[]>>;
  /** the previous snapshot: services whose inputs did not change are reused as they are (fast updates) */
  previous?: MeshSnapshot;
  /**
   * With `previous`: the only service keys (namespace/name) whose inputs — Services, EndpointSlices, the Pods
   * those slices point at — may have changed since `previous` was built. Only they are recomputed; every other
   * service (and its counts) is taken from `previous`. Ignored (a full merge) when anything global changed since
   * then: the clusters or their status, the federated namespaces, the domain suffix. Undefined: any may have changed.
   */
  dirty?: ReadonlySet<string>;
}

const DEFAULT_INBOUND = PORTS.sidecarInbound;

/** Namespaces federated anywhere: labelled in any member cluster (namespace sameness), or all non-system ones. */
export function federatedNamespaces(clusters: readonly ClusterView[], federateAll = false): Set<string> {
  const out = new Set<string>();
  for (const c of clusters) {
    for (const ns of c.namespaces) {
      const name = ns.metadata?.name;
      if (!name || isSystemNamespace(name)) continue;
      if (federateAll || ns.metadata?.labels?.[LABELS.federation] === 'enabled') out.add(name);
    }
  }
  return out;
}

/** The cluster's network: registration first, then kube-system's label, then any node's label, else the cluster name. */
export function clusterNetwork(c: ClusterView): string {
  if (c.status.network) return c.status.network;
  const ks = c.namespaces.find((n) => n.metadata?.name === 'kube-system')?.metadata?.labels?.[LABELS.network];
  if (ks) return ks;
  for (const n of c.nodes) {
    const v = n.metadata?.labels?.[LABELS.network];
    if (v) return v;
  }
  return c.status.name;
}

function toProtocol(p: string | undefined): Protocol {
  return p === 'UDP' || p === 'SCTP' ? p : 'TCP';
}

function inferAppProtocol(name: string): string | undefined {
  const m = /^(http2|http|grpc-web|grpc|tcp|tls|https|mongo|redis|mysql)(-|$)/.exec(name);
  return m ? m[1] : undefined;
}

const portsMemo = new WeakMap<k8s.V1Service, ServicePort[]>();

export function servicePorts(svc: k8s.V1Service): ServicePort[] {
  let ports = portsMemo.get(svc);
  if (!ports) {
    ports = computeServicePorts(svc);
    portsMemo.set(svc, ports);
  }
  return ports;
}

function computeServicePorts(svc: k8s.V1Service): ServicePort[] {
  return (svc.spec?.ports ?? []).map((p) => {
    const name = p.name ?? '';
    const appProtocol = p.appProtocol ?? inferAppProtocol(name);
    const out: ServicePort = { name, port: p.port, protocol: toProtocol(p.protocol) };
    if (appProtocol) out.appProtocol = appProtocol;
    return out;
  }).sort((a, b) => a.port - b.port || a.name.localeCompare(b.name));
}

function portsSignature(ports: readonly ServicePort[]): string {
  return ports.map((p) => `${p.name}/${p.port}/${p.protocol}`).join(',');
}

function created(svc: k8s.V1Service): number {
  const t = svc.metadata?.creationTimestamp;
  if (t === undefined) return Number.MAX_SAFE_INTEGER;
  const ms = new Date(t).getTime();
  return Number.isNaN(ms) ? Number.MAX_SAFE_INTEGER : ms;
}

function nodeLocality(node: k8s.V1Node | undefined, zoneHint: string | undefined, clusterRegion: string): Locality {
  const l = node?.metadata?.labels ?? {};
  return {
    region: l[LABELS.region] ?? clusterRegion,
    zone: l[LABELS.zone] ?? zoneHint ?? '',
    subZone: l[LABELS.subZone] ?? '',
  };
}

function podInfo(pod: k8s.V1Pod | undefined): Pick<Endpoint, 'tlsMode' | 'inboundPort' | 'serviceAccount' | 'podName' | 'labels'> {
  if (!pod) return { tlsMode: 'disabled', labels: {} };
  const labels = pod.metadata?.labels ?? {};
  const tlsMode: TlsMode = labels[LABELS.tlsMode] === 'istio' ? 'istio' : 'disabled';
  const out: Pick<Endpoint, 'tlsMode' | 'inboundPort' | 'serviceAccount' | 'podName' | 'labels'> = { tlsMode, labels: { ...labels } };
  if (tlsMode === 'istio') {
    const raw = pod.metadata?.annotations?.[ANNOTATIONS.inboundPort];
    const n = raw === undefined ? DEFAULT_INBOUND : Number(raw);
    out.inboundPort = Number.isInteger(n) && n > 0 && n < 65536 ? n : DEFAULT_INBOUND;
  }
  out.serviceAccount = pod.spec?.serviceAccountName ?? 'default';
  if (pod.metadata?.name) out.podName = pod.metadata.name;
  return out;
}

// Per-cluster indexes, cached by the identity of the (immutable) arrays they come from, so that a change in
// one cluster's EndpointSlices does not re-index its pods and nodes, nor other clusters.
const sliceIndex = new WeakMap<readonly k8s.V1EndpointSlice[], Map<string, k8s.V1EndpointSlice[]>>();
const podIndex = new WeakMap<readonly k8s.V1Pod[], Map<string, k8s.V1Pod>>();
const nodeIndex = new WeakMap<readonly k8s.V1Node[], Map<string, k8s.V1Node>>();

function slicesOf(c: ClusterView): Map<string, k8s.V1EndpointSlice[]> {
  let m = sliceIndex.get(c.endpointSlices);
  if (!m) {
    m = new Map();
    for (const s of c.endpointSlices) {
      const svc = s.metadata?.labels?.[LABELS.serviceName];
      if (!svc || !s.metadata?.namespace) continue;
      const key = serviceKey(s.metadata.namespace, svc);
      const list = m.get(key);
      if (list) list.push(s); else m.set(key, [s]);
    }
    sliceIndex.set(c.endpointSlices, m);
  }
  return m;
}

function podsOf(c: ClusterView): Map<string, k8s.V1Pod> {
  let m = podIndex.get(c.pods);
  if (!m) {
    m = new Map(c.pods.map((p) => [serviceKey(p.metadata?.namespace ?? '', p.metadata?.name ?? ''), p]));
    podIndex.set(c.pods, m);
  }
  return m;
}

function nodesOf(c: ClusterView): Map<string, k8s.V1Node> {
  let m = nodeIndex.get(c.nodes);
  if (!m) {
    m = new Map(c.nodes.map((n) => [n.metadata?.name ?? '', n]));
    nodeIndex.set(c.nodes, m);
  }
  return m;
}

interface SliceMemo {
  pods: Map<string, k8s.V1Pod>;
  nodes: Map<string, k8s.V1Node>;
  cluster: ClusterStatus;
  network: string;
  staleSince: string | undefined;
  endpoints: Endpoint[];
}
// Endpoints computed from one EndpointSlice object, reused while nothing they depend on changed.
const sliceMemo = new WeakMap<k8s.V1EndpointSlice, SliceMemo>();

function sliceEndpoints(c: ClusterView, slice: k8s.V1EndpointSlice, network: string, staleSince: string | undefined): Endpoint[] {
  const nodes = nodesOf(c);
  const pods = podsOf(c);
  const memo = sliceMemo.get(slice);
  if (memo && memo.pods === pods && memo.nodes === nodes && memo.cluster.name === c.status.name
    && memo.cluster.region === c.status.region && memo.network === network && memo.staleSince === staleSince) {
    return memo.endpoints;
  }
  const namespace = slice.metadata?.namespace ?? '';
  const out: Endpoint[] = [];
  if (slice.addressType === 'IPv4' || slice.addressType === 'IPv6') {
    const ports: Record<string, number> = {};
    for (const p of slice.ports ?? []) if (p.port !== undefined) ports[p.name ?? ''] = p.port;
    for (const ep of slice.endpoints ?? []) {
      const pod = ep.targetRef?.kind === 'Pod' ? pods.get(serviceKey(namespace, ep.targetRef.name ?? '')) : undefined;
      const nodeName = ep.nodeName ?? pod?.spec?.nodeName;
      for (const address of ep.addresses ?? []) {
        const e: Endpoint = {
          cluster: c.status.name,
          network,
          locality: nodeLocality(nodeName ? nodes.get(nodeName) : undefined, ep.zone, c.status.region),
          address,
          ports: { ...ports },
          ready: ep.conditions?.ready !== false,
          ...podInfo(pod),
        };
        if (nodeName) e.nodeName = nodeName;
        if (staleSince) e.staleSince = staleSince;
        out.push(Object.freeze(e));
      }
    }
  }
  out.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  sliceMemo.set(slice, { pods, nodes, cluster: c.status, network, staleSince, endpoints: out });
  return out;
}

const NO_ENDPOINTS: Endpoint[] = [];

/** Endpoints of one native Service in one cluster, from its EndpointSlices. */
export function clusterEndpoints(c: ClusterView, namespace: string, name: string, network: string, staleSince?: string): readonly Endpoint[] {
  return endpointsByKey(c, serviceKey(namespace, name), network, staleSince);
}

function endpointsByKey(c: ClusterView, key: string, network: string, staleSince: string | undefined): readonly Endpoint[] {
  const slices = slicesOf(c).get(key);
  if (!slices) return NO_ENDPOINTS;
  if (slices.length === 1) return sliceEndpoints(c, slices[0]!, network, staleSince);
  const out = slices.flatMap((s) => sliceEndpoints(c, s, network, staleSince));
  return out.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}

const gatewaysMemo = new WeakMap<readonly k8s.V1Service[], { sig: string; gateways: Gateway[] }>();

export function gatewaysOf(c: ClusterView): Gateway[] {
  const sig = `${c.status.name}|${c.status.region}|${clusterNetwork(c)}`;
  const m = gatewaysMemo.get(c.services);
  if (m && m.sig === sig) return m.gateways;
  const gateways = computeGateways(c);
  gatewaysMemo.set(c.services, { sig, gateways });
  return gateways;
}

function computeGateways(c: ClusterView): Gateway[] {
  const out: Gateway[] = [];
  for (const svc of c.services) {
    const labels = svc.metadata?.labels ?? {};
    if (labels[LABELS.gateway] !== 'eastwest') continue;
    const address = svc.status?.loadBalancer?.ingress?.[0]?.ip ?? svc.spec?.externalIPs?.[0];
    if (!address) continue;
    const ports = svc.spec?.ports ?? [];
    const p = ports.find((x) => x.name === 'tls') ?? ports.find((x) => x.port === PORTS.eastWestGateway);
    out.push({
      network: labels[LABELS.network] ?? clusterNetwork(c),
      region: c.status.region,
      cluster: c.status.name,
      address,
      port: p?.port ?? PORTS.eastWestGateway,
    });
  }
  return out;
}

interface Definition { cluster: string; svc: k8s.V1Service; ports: ServicePort[]; created: number }

// A cluster's federated service definitions, recomputed only when its Services (the array) or the federated
// namespaces change — a merge after one change elsewhere does not walk this cluster's Services again.
const defsMemo = new WeakMap<readonly k8s.V1Service[], { cluster: string; fedSig: string; defs: [string, Definition][] }>();
// One definition per Service object, and each cluster's last definitions: when a cluster's Services change in a way
// that leaves its definitions as they were (meshfed's replicas arriving, the most frequent Service change during
// replication), the previous array is kept, so grouping the definitions of every cluster is not redone.
const defOf = new WeakMap<k8s.V1Service, [string, Definition]>();
const lastDefs = new Map<string, { fedSig: string; defs: [string, Definition][] }>();

function definition(cluster: string, svc: k8s.V1Service, ns: string, name: string): [string, Definition] {
  let d = defOf.get(svc);
  if (!d || d[1].cluster !== cluster) {
    d = [serviceKey(ns, name), { cluster, svc, ports: servicePorts(svc), created: created(svc) }];
    defOf.set(svc, d);
  }
  return d;
}

function clusterDefinitions(c: ClusterView, federated: ReadonlySet<string>, fedSig: string): [string, Definition][] {
  const m = defsMemo.get(c.services);
  if (m && m.cluster === c.status.name && m.fedSig === fedSig) return m.defs;
  let defs: [string, Definition][] = [];
  for (const svc of c.services) {
    const ns = svc.metadata?.namespace;
    const name = svc.metadata?.name;
    if (!ns || !name || !federated.has(ns) || isReplicaService(svc)) continue;
    if (svc.metadata?.labels?.[LABELS.gateway] === 'eastwest') continue;
    defs.push(definition(c.status.name, svc, ns, name));
  }
  const last = lastDefs.get(c.status.name);
  if (last && last.fedSig === fedSig && last.defs.length === defs.length && last.defs.every((d, i) => d === defs[i])) defs = last.defs;
  else lastDefs.set(c.status.name, { fedSig, defs });
  defsMemo.set(c.services, { cluster: c.status.name, fedSig, defs });
  return defs;
}

// What each MeshService was built from, to reuse it when a later merge has identical inputs.
interface ServiceInputs { domainSuffix: string; svcs: k8s.V1Service[]; clusters: string[]; eps: (readonly Endpoint[])[] }
const serviceInputs = new WeakMap<MeshService, ServiceInputs>();

function sameInputs(a: ServiceInputs | undefined, b: ServiceInputs): boolean {
  if (!a || a.domainSuffix !== b.domainSuffix || a.svcs.length !== b.svcs.length) return false;
  for (let i = 0; i < b.svcs.length; i++) {
    if (a.svcs[i] !== b.svcs[i] || a.clusters[i] !== b.clusters[i] || a.eps[i] !== b.eps[i]) return false;
  }
  return true;
}

// Service definitions grouped by key (sorted keys, each group oldest first), recomputed only when some cluster's
// definitions (their memoized array) or the cluster set changed: an endpoint-only change — the most frequent
// kind — does not regroup or re-sort the 5,000 keys of a large mesh.
interface Group { key: string; list: Definition[]; svcs: k8s.V1Service[]; clusters: string[] }
interface Groups { groups: Group[]; byKey: Map<string, Group> }
let groupMemo: { fedSig: string; perCluster: [string, Definition][][]; grouped: Groups } | undefined;

function groupDefinitions(sorted: readonly ClusterView[], federated: ReadonlySet<string>, fedSig: string): Groups {
  const perCluster = sorted.map((c) => clusterDefinitions(c, federated, fedSig));
  const m = groupMemo;
  if (m && m.fedSig === fedSig && m.perCluster.length === perCluster.length && m.perCluster.every((d, i) => d === perCluster[i])) return m.grouped;
  const defs = new Map<string, Definition[]>();
  for (const cdefs of perCluster) {
    for (const [key, d] of cdefs) {
      const list = defs.get(key);
      if (list) list.push(d); else defs.set(key, [d]);
    }
  }
  const groups: Group[] = [];
  for (const key of [...defs.keys()].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))) {
    const list = defs.get(key)!;
    if (list.length > 1) list.sort((a, b) => a.created - b.created || (a.cluster < b.cluster ? -1 : a.cluster > b.cluster ? 1 : 0));
    groups.push({ key, list, svcs: list.map((d) => d.svc), clusters: list.map((d) => d.cluster) });
  }
  const grouped = { groups, byKey: new Map(groups.map((g) => [g.key, g])) };
  groupMemo = { fedSig, perCluster, grouped };
  return grouped;
}

interface Counts { services: number; endpoints: number }

/** Per-merge context: the clusters by name, their networks, and each cluster's running counts. */
interface MergeCtx {
  domainSuffix: string;
  byName: Map<string, ClusterView>;
  networks: Map<string, string>;
  counts: Map<string, Counts>;
}

/** One MeshService from its definitions (oldest first) and each defining cluster's endpoints — or `prev` as it is. */
function buildService(g: Group, prev: MeshService | undefined, ctx: MergeCtx): MeshService {
  const { key, list, svcs, clusters: sources } = g;
  const winner = list[0]!;
  const [namespace, name] = [winner.svc.metadata!.namespace!, winner.svc.metadata!.name!];
  const before = prev && serviceInputs.get(prev);
  // reusable while the definitions (shared arrays of the memoized grouping) and every endpoint list are the same
  let same = before !== undefined && before.domainSuffix === ctx.domainSuffix && before.svcs === svcs;
  const eps: (readonly Endpoint[])[] = [];
  for (let i = 0; i < list.length; i++) {
    const d = list[i]!;
    const c = ctx.byName.get(d.cluster)!;
    const stale = c.status.state === 'unreachable' ? c.status.since : undefined;
    const e = endpointsByKey(c, key, ctx.networks.get(d.cluster)!, stale);
    if (same && before!.eps[i] !== e) same = false;
    eps.push(e);
  }
  const inputs: ServiceInputs = { domainSuffix: ctx.domainSuffix, svcs, clusters: sources, eps };
  if (prev && (same || sameInputs(before, inputs))) return prev;
  const conflicts: PortConflict[] = [];
  for (const d of list.slice(1)) {
    if (portsSignature(d.ports) !== portsSignature(winner.ports)) {
      conflicts.push({
        cluster: d.cluster,
        winner: winner.cluster,
        detail: `ports [${portsSignature(d.ports)}] in ${d.cluster} differ from the older definition [${portsSignature(winner.ports)}] in ${winner.cluster}`,
      });
    }
  }
  const ms: MeshService = Object.freeze({
    namespace, name,
    hostname: serviceHostname(name, namespace, ctx.domainSuffix),
    ports: Object.freeze(winner.ports),
    clusters: Object.freeze(list.map((d) => d.cluster).sort()),
    endpoints: Object.freeze(inputs.eps.flat()),
    conflicts: Object.freeze(conflicts),
  });
  serviceInputs.set(ms, inputs);
  return ms;
}

/** Add (sign 1) or remove (sign -1) a service's share of its clusters' service and endpoint counts. */
function count(ms: MeshService, counts: Map<string, Counts>, sign: 1 | -1): void {
  for (const c of ms.clusters) {
    const n = counts.get(c);
    if (n) n.services += sign;
  }
  for (const e of ms.endpoints) {
    const n = counts.get(e.cluster);
    if (n) n.endpoints += sign;
  }
}

// What a snapshot was merged from, beyond the per-service inputs: a dirty-key merge on top of it is valid only
// while all of this is unchanged.
const globalsOf = new WeakMap<MeshSnapshot, string>();

function globalsSignature(sorted: readonly ClusterView[], networks: ReadonlyMap<string, string>, fedSig: string, domainSuffix: string): string {
  return JSON.stringify([domainSuffix, fedSig, sorted.map((c) => [c.status, networks.get(c.status.name)])]);
}

// For a snapshot built by a dirty-key merge: the snapshot it was built on and the keys whose service changed. The
// base is held weakly: a strong reference would keep every snapshot ever built alive, each through its successor.
const changedSince = new WeakMap<MeshSnapshot, { base: WeakRef<MeshSnapshot>; keys: ReadonlySet<string> }>();

/**
 * The service keys that differ between `prev` and `next` (added, removed or a new MeshService object), when `next`
 * was built from `prev` by a dirty-key merge; undefined when unknown (compare the whole maps).
 */
export function changedServices(prev: MeshSnapshot, next: MeshSnapshot): ReadonlySet<string> | undefined {
  if (prev.services === next.services) return new Set();
  const c = changedSince.get(next);
  return c && c.base.deref() === prev ? c.keys : undefined;
}

const byKeyOrder = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);

/** Merge every cluster's state into one snapshot. Same namespace/name in two clusters = one service. */
export function mergeClusters(clusters: readonly ClusterView[], opts: MergeOptions): MeshSnapshot {
  const domainSuffix = opts.domainSuffix ?? 'cluster.local';
  const federated = federatedNamespaces(clusters, opts.federateAll);
  const sorted = [...clusters].sort((a, b) => a.status.name.localeCompare(b.status.name));
  const fedSig = [...federated].sort().join(',');
  const byName = new Map(sorted.map((c) => [c.status.name, c]));
  const networks = new Map(sorted.map((c) => [c.status.name, clusterNetwork(c)]));
  const globals = globalsSignature(sorted, networks, fedSig, domainSuffix);
  const { groups, byKey } = groupDefinitions(sorted, federated, fedSig);
  for (const name of lastDefs.keys()) if (!byName.has(name)) lastDefs.delete(name); // a removed cluster's Services go
  const prevSnap = opts.previous;
  let services: Map<string, MeshService>;
  let counts: Map<string, Counts>;
  let changed: Set<string> | undefined;
  if (prevSnap && opts.dirty && globalsOf.get(prevSnap) === globals) {
    // dirty-key merge: recompute only the changed keys, keep every other service (and its counts) from previous
    counts = new Map(prevSnap.clusters.map((c) => [c.name, { services: c.services, endpoints: c.endpoints }]));
    const ctx: MergeCtx = { domainSuffix, byName, networks, counts };
    // the previous map is shared until a service really changes (a replica arriving changes none)
    services = prevSnap.services as Map<string, MeshService>;
    let copied = false;
    let keysChanged = false;
    for (const key of opts.dirty) {
      const old = services.get(key);
      const g = byKey.get(key);
      const ms = g && buildService(g, old, ctx);
      if (ms === old) continue;
      if (!copied) { services = new Map(services); copied = true; }
      (changed ??= new Set()).add(key);
      if (old) count(old, counts, -1);
      if (ms) { count(ms, counts, 1); services.set(key, ms); } else services.delete(key);
      if (!old || !ms) keysChanged = true;
    }
    // keys in sorted order, as a full merge lists them
    if (keysChanged) services = new Map([...services].sort(([x], [y]) => byKeyOrder(x, y)));
  } else {
    counts = new Map(sorted.map((c) => [c.status.name, { services: 0, endpoints: 0 }]));
    const ctx: MergeCtx = { domainSuffix, byName, networks, counts };
    services = new Map();
    for (const g of groups) {
      const ms = buildService(g, prevSnap?.services.get(g.key), ctx);
      count(ms, counts, 1);
      services.set(g.key, ms);
    }
  }
  const statuses = sorted.map((c) => Object.freeze({ ...c.status, network: networks.get(c.status.name)!, ...counts.get(c.status.name)! }));
  const snapshot: MeshSnapshot = Object.freeze({
    version: opts.version,
    builtAt: opts.now.toISOString(),
    trustDomain: opts.trustDomain ?? 'cluster.local',
    domainSuffix,
    clusters: Object.freeze(statuses),
    services,
    gateways: Object.freeze(sorted.flatMap(gatewaysOf)),
    failover: Object.freeze({ ...(opts.failover ?? {}) }),
  });
  globalsOf.set(snapshot, globals);
  if (prevSnap && opts.dirty && services !== prevSnap.services && changed) changedSince.set(snapshot, { base: new WeakRef(prevSnap), keys: changed });
  return snapshot;
}
