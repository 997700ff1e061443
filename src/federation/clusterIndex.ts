// Pure reads of one member cluster's objects for the merge: federated namespaces, network, a Service's ports, the
// endpoints of a service from its EndpointSlices (with their Pods' and Nodes' facts), east-west gateways. Each
// takes the merge's cache (mergeCache.ts) and memoizes by the identity of the immutable objects it reads.
import type * as k8s from '@kubernetes/client-node';
import type { Endpoint, Gateway, Locality, Protocol, ServicePort, TlsMode } from '../mesh/types.ts';
import { serviceKey } from '../mesh/types.ts';
import { PORTS } from '../mesh/names.ts';
import { ANNOTATIONS, LABELS, isSystemNamespace } from './labels.ts';
import type { MergeCache } from './mergeCache.ts';
import type { ClusterView } from './mergeTypes.ts';

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

/** A Service's ports, sorted by port then name, with the app protocol named or inferred from the port name. */
export function servicePorts(svc: k8s.V1Service, cache: MergeCache): ServicePort[] {
  let ports = cache.ports.get(svc);
  if (!ports) {
    ports = computeServicePorts(svc);
    cache.ports.set(svc, ports);
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

function slicesOf(c: ClusterView, cache: MergeCache): Map<string, k8s.V1EndpointSlice[]> {
  let m = cache.slices.get(c.endpointSlices);
  if (!m) {
    m = new Map();
    for (const s of c.endpointSlices) {
      const svc = s.metadata?.labels?.[LABELS.serviceName];
      if (!svc || !s.metadata?.namespace) continue;
      const key = serviceKey(s.metadata.namespace, svc);
      const list = m.get(key);
      if (list) list.push(s); else m.set(key, [s]);
    }
    cache.slices.set(c.endpointSlices, m);
  }
  return m;
}

function podsOf(c: ClusterView, cache: MergeCache): Map<string, k8s.V1Pod> {
  let m = cache.pods.get(c.pods);
  if (!m) {
    m = new Map(c.pods.map((p) => [serviceKey(p.metadata?.namespace ?? '', p.metadata?.name ?? ''), p]));
    cache.pods.set(c.pods, m);
  }
  return m;
}

function nodesOf(c: ClusterView, cache: MergeCache): Map<string, k8s.V1Node> {
  let m = cache.nodes.get(c.nodes);
  if (!m) {
    m = new Map(c.nodes.map((n) => [n.metadata?.name ?? '', n]));
    cache.nodes.set(c.nodes, m);
  }
  return m;
}

function sliceEndpoints(c: ClusterView, slice: k8s.V1EndpointSlice, network: string, staleSince: string | undefined, cache: MergeCache): Endpoint[] {
  const nodes = nodesOf(c, cache);
  const pods = podsOf(c, cache);
  const memo = cache.sliceEndpoints.get(slice);
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
  cache.sliceEndpoints.set(slice, { pods, nodes, cluster: c.status, network, staleSince, endpoints: out });
  return out;
}

const NO_ENDPOINTS: readonly Endpoint[] = Object.freeze([]);

/** Endpoints of one native Service (by key namespace/name) in one cluster, from its EndpointSlices. */
export function endpointsByKey(c: ClusterView, key: string, network: string, staleSince: string | undefined, cache: MergeCache): readonly Endpoint[] {
  const slices = slicesOf(c, cache).get(key);
  if (!slices) return NO_ENDPOINTS;
  if (slices.length === 1) return sliceEndpoints(c, slices[0]!, network, staleSince, cache);
  const out = slices.flatMap((s) => sliceEndpoints(c, s, network, staleSince, cache));
  return out.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}

/** The cluster's east-west gateways (Services labelled meshfed.io/gateway=eastwest with an address). */
export function gatewaysOf(c: ClusterView, cache: MergeCache): Gateway[] {
  const sig = `${c.status.name}|${c.status.region}|${clusterNetwork(c)}`;
  const m = cache.gateways.get(c.services);
  if (m && m.sig === sig) return m.gateways;
  const gateways = computeGateways(c);
  cache.gateways.set(c.services, { sig, gateways });
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
