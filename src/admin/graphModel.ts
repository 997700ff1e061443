// Pure: the dashboard's topology graph from what the control plane knows (snapshot, cluster states, connected
// proxies) and the traffic its proxies report (flows over a window). Regions hold clusters and their region's
// east-west gateways; clusters hold services and workloads. Traffic edges go from a source workload to the
// destination service in the cluster that served it; a request that crossed a network is drawn as two edges,
// workload → that network's gateway → service.
import type { ClusterStatus, MeshSnapshot } from '../mesh/types.ts';
import type { ProxySync } from './sources.ts';
import { ratesOf, type FlowCounts, type Rates } from './traffic.ts';

export type NodeKind = 'region' | 'cluster' | 'gateway' | 'service' | 'workload';
/**
 * connected: known and fine · syncing · unreachable: its API server (or gateway) does not answer · error ·
 * stale: last-known data of an unreachable cluster · ejected: a gateway ejected endpoints of it lately ·
 * unready: no ready endpoint · failover: the region is down and its traffic fails over · idle: seen in telemetry only
 */
export type NodeState = 'connected' | 'syncing' | 'unreachable' | 'error' | 'stale' | 'ejected' | 'unready' | 'failover' | 'idle';
export type Health = 'healthy' | 'degraded' | 'failing';

export interface GraphNode {
  id: string;
  kind: NodeKind;
  label: string;
  parent?: string;
  state: NodeState;
  /** one line for the side panel and the text alternative */
  detail: string;
  region: string;
  cluster?: string;
  network?: string;
  /** namespace/name of a service (deep link /#service=…) */
  service?: string;
  /** traffic into a service node over the window */
  rates?: Rates;
}

export interface GraphEdge extends Rates {
  id: string;
  /** traffic: observed requests; serves: a service's workloads (structure, no figures) */
  kind: 'traffic' | 'serves';
  source: string;
  target: string;
  health: Health;
  /** the gateway node this edge leads to or comes from, when the traffic crossed a network */
  via?: string;
  /** numbers of flows added up in this edge */
  flows: number;
}

export interface GraphModel {
  at: string;
  version: number;
  windowSeconds: number;
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** regions whose traffic fails over, and where to */
  failover: { region: string; to?: string }[];
}

export interface GraphInput {
  snapshot: MeshSnapshot;
  clusters: readonly ClusterStatus[];
  proxies: readonly ProxySync[];
  /** flows added up over the window, and the seconds the window spans */
  flows: ReadonlyMap<string, FlowCounts>;
  windowSeconds: number;
  /** gateways' recent outlier ejections: hostname, and the gateway's network when known */
  ejected?: readonly { host: string; network?: string }[];
  now: number;
}

export const regionId = (r: string): string => `region/${r}`;
export const clusterId = (c: string): string => `cluster/${c}`;
export const gatewayId = (network: string): string => `gateway/${network}`;
export const serviceId = (cluster: string, key: string): string => `service/${cluster}/${key}`;
export const workloadId = (cluster: string, name: string): string => `workload/${cluster}/${name}`;

/** Edge colour: red from 5% 5xx, amber from 1% 5xx or a p99 over 1 s, green otherwise (Kiali's thresholds are alike). */
export function edgeHealth(r: Rates): Health {
  if (r.errorShare >= 0.05) return 'failing';
  if (r.errorShare >= 0.01 || (r.p99Ms ?? 0) > 1000) return 'degraded';
  return 'healthy';
}

/** Regions whose every member cluster is unreachable (their traffic fails over, as federation decides). */
function regionsDown(clusters: readonly ClusterStatus[]): Set<string> {
  const byRegion = new Map<string, boolean>();
  for (const c of clusters) byRegion.set(c.region, (byRegion.get(c.region) ?? true) && c.state === 'unreachable');
  return new Set([...byRegion].filter(([, down]) => down).map(([r]) => r));
}

/** sidecar~10.1.0.1~sleep-5d9.demo~demo.svc.cluster.local → { pod: 'sleep-5d9', namespace: 'demo' } */
function podOfNode(nodeId: string): { pod: string; namespace: string } | undefined {
  const part = nodeId.split('~')[2];
  if (!part) return undefined;
  const dot = part.lastIndexOf('.');
  return dot > 0 ? { pod: part.slice(0, dot), namespace: part.slice(dot + 1) } : { pod: part, namespace: '' };
}

/** A Deployment's pod name without its ReplicaSet and pod suffixes (reviews-v1-5d9c7b8f4-x2kqp → reviews-v1). */
export function workloadName(pod: string): string {
  return pod.replace(/-[a-z0-9]{6,10}-[a-z0-9]{5}$/, '');
}

const fmt = (r: Rates): string => `${r.rps.toFixed(1)} req/s, ${(r.errorShare * 100).toFixed(1)}% 5xx${r.p99Ms !== undefined ? `, p99 ${Math.round(r.p99Ms)} ms` : ''}`;

export function buildGraph(i: GraphInput): GraphModel {
  const nodes = new Map<string, GraphNode>();
  const add = (n: GraphNode): GraphNode => { const x = nodes.get(n.id); if (x) return x; nodes.set(n.id, n); return n; };
  const clusterBy = new Map(i.clusters.map((c) => [c.name, c]));
  const down = regionsDown(i.clusters);
  const failover = [...down].sort().map((r) => { const to = i.snapshot.failover[r]?.find((x) => !down.has(x)); return to ? { region: r, to } : { region: r }; });
  const hostToKey = new Map([...i.snapshot.services].map(([key, s]) => [s.hostname, key]));

  const regionNode = (r: string): GraphNode => {
    const f = failover.find((x) => x.region === r);
    return add({
      id: regionId(r), kind: 'region', label: f ? `${r} — failover${f.to ? ` → ${f.to}` : ''}` : r, state: f ? 'failover' : 'connected', region: r,
      detail: f ? `region ${r}: every cluster unreachable, its traffic fails over${f.to ? ` to ${f.to}` : ''}` : `region ${r}`,
    });
  };
  for (const c of [...i.clusters].sort((a, b) => a.name.localeCompare(b.name))) {
    regionNode(c.region);
    add({
      id: clusterId(c.name), kind: 'cluster', label: `${c.name} (${c.network})`, parent: regionId(c.region), state: c.state,
      region: c.region, cluster: c.name, network: c.network,
      detail: `cluster ${c.name}: ${c.state}${c.reason ? ` (${c.reason})` : ''}; ${c.services} services, ${c.endpoints} endpoints`,
    });
  }
  for (const g of i.snapshot.gateways) {
    regionNode(g.region);
    const host = g.cluster ? clusterBy.get(g.cluster) : i.clusters.find((c) => c.network === g.network);
    const state: NodeState = !host ? 'idle' : host.state === 'connected' ? 'connected' : host.state;
    add({
      id: gatewayId(g.network), kind: 'gateway', label: `gateway ${g.network}`, parent: regionId(g.region), state,
      region: g.region, network: g.network, ...(g.cluster ? { cluster: g.cluster } : {}),
      detail: `east-west gateway of ${g.network} at ${g.address}:${g.port}${g.cluster ? ` in ${g.cluster}` : ''}: ${state}`,
    });
  }

  const serves: { source: string; target: string }[] = [];
  // services per cluster they have endpoints in (or exist in natively), and their workloads (endpoints by app label)
  for (const [key, s] of [...i.snapshot.services].sort(([a], [b]) => a.localeCompare(b))) {
    const inClusters = new Set([...s.clusters, ...s.endpoints.map((e) => e.cluster)]);
    for (const cn of [...inClusters].sort()) {
      const c = clusterBy.get(cn);
      if (!c) continue;
      const eps = s.endpoints.filter((e) => e.cluster === cn);
      const ready = eps.filter((e) => e.ready).length;
      const stale = eps.filter((e) => e.staleSince !== undefined).length;
      const ejected = (i.ejected ?? []).some((x) => x.host === s.hostname && (x.network === undefined || x.network === c.network));
      const state: NodeState = c.state === 'unreachable' || (stale > 0 && stale === eps.length) ? 'stale'
        : ejected ? 'ejected' : eps.length > 0 && ready === 0 ? 'unready' : c.state === 'connected' ? 'connected' : c.state;
      add({
        id: serviceId(cn, key), kind: 'service', label: s.name, parent: clusterId(cn), state, region: c.region, cluster: cn, network: c.network, service: key,
        detail: `service ${key} in ${cn}: ${ready}/${eps.length} endpoints ready${stale ? `, ${stale} last-known` : ''}${ejected ? ', endpoints ejected by the gateway lately' : ''}`,
      });
      const byApp = new Map<string, number>();
      for (const e of eps) { const app = e.labels['app'] ?? e.serviceAccount ?? s.name; byApp.set(app, (byApp.get(app) ?? 0) + 1); }
      for (const [app, n] of byApp) {
        serves.push({ source: serviceId(cn, key), target: workloadId(cn, app) });
        add({
          id: workloadId(cn, app), kind: 'workload', label: `${app} ×${n}`, parent: clusterId(cn), state: state === 'ejected' || state === 'unready' ? state : state === 'stale' ? 'stale' : 'connected',
          region: c.region, cluster: cn, network: c.network, detail: `workload ${app} in ${cn}: ${n} pods behind ${key}`,
        });
      }
    }
  }

  // connected sidecars are workloads even before they send traffic (those behind a service are shown as its workload)
  const connected = new Set<string>();
  const endpointIps = new Set([...i.snapshot.services.values()].flatMap((s) => s.endpoints.map((e) => `${e.cluster}/${e.address}`)));
  for (const p of i.proxies) {
    if (p.role !== 'sidecar') continue;
    const c = clusterBy.get(p.cluster);
    const pod = podOfNode(p.nodeId);
    if (!c || !pod) continue;
    connected.add(`${p.cluster}/${pod.pod}`);
    connected.add(`${p.cluster}/${workloadName(pod.pod)}`);
    if (endpointIps.has(`${p.cluster}/${p.nodeId.split('~')[1]}`)) continue;
    const name = workloadName(pod.pod);
    add({ id: workloadId(c.name, name), kind: 'workload', label: name, parent: clusterId(c.name), state: 'connected', region: c.region, cluster: c.name, network: c.network, detail: `workload ${name} in ${c.name}: sidecar connected to xDS` });
  }
  const isConnected = (cluster: string, workload: string): boolean => connected.has(`${cluster}/${workload}`);

  // traffic: aggregate flows into edge segments
  const edges = new Map<string, { source: string; target: string; via?: string; requests: number; errors: number; buckets: number[]; flows: number }>();
  const addEdge = (source: string, target: string, f: FlowCounts, via?: string): void => {
    const id = `${source}->${target}`;
    let e = edges.get(id);
    if (!e) edges.set(id, (e = { source, target, ...(via ? { via } : {}), requests: 0, errors: 0, buckets: f.buckets.map(() => 0), flows: 0 }));
    e.requests += f.requests; e.errors += f.errors; e.flows++;
    f.buckets.forEach((b, k) => { e.buckets[k]! += b; });
  };
  const serviceIn = new Map<string, { requests: number; errors: number; buckets: number[] }>();
  for (const f of i.flows.values()) {
    if (f.requests <= 0) continue;
    const k = f.key;
    const src = clusterBy.get(k.srcCluster);
    const dst = clusterBy.get(k.dstCluster);
    if (!src) continue;
    const srcWl = add({
      id: workloadId(src.name, k.srcWorkload), kind: 'workload', label: k.srcWorkload, parent: clusterId(src.name),
      state: isConnected(src.name, k.srcWorkload) ? 'connected' : 'idle', region: src.region, cluster: src.name, network: src.network,
      detail: `workload ${k.srcWorkload} in ${src.name}`,
    }).id;
    const key = hostToKey.get(k.dstService) ?? hostToKey.get(k.dstService.split(':')[0]!) ?? k.dstService;
    let target: string;
    if (dst) {
      target = serviceId(dst.name, key);
      if (!nodes.has(target)) {
        add({ id: target, kind: 'service', label: key.split('/').pop()!, parent: clusterId(dst.name), state: dst.state === 'unreachable' ? 'stale' : 'idle', region: dst.region, cluster: dst.name, network: dst.network, service: key, detail: `service ${key} in ${dst.name} (seen in telemetry only)` });
      }
    } else {
      // no endpoint answered (503 without a destination): the service as the caller named it, in the caller's cluster
      target = serviceId(src.name, key);
      if (!nodes.has(target)) add({ id: target, kind: 'service', label: key.split('/').pop()!, parent: clusterId(src.name), state: 'unready', region: src.region, cluster: src.name, network: src.network, service: key, detail: `service ${key}: no endpoint answered` });
    }
    const gw = dst && dst.network !== src.network && i.snapshot.gateways.some((g) => g.network === dst.network) ? gatewayId(dst.network) : undefined;
    if (gw) { addEdge(srcWl, gw, f, gw); addEdge(gw, target, f, gw); } else addEdge(srcWl, target, f);
    const s = serviceIn.get(target) ?? { requests: 0, errors: 0, buckets: f.buckets.map(() => 0) };
    s.requests += f.requests; s.errors += f.errors; f.buckets.forEach((b, x) => { s.buckets[x]! += b; });
    serviceIn.set(target, s);
  }
  for (const [id, c] of serviceIn) { const n = nodes.get(id); if (n) n.rates = ratesOf(c, i.windowSeconds); }

  const outEdges: GraphEdge[] = [...edges].sort(([a], [b]) => a.localeCompare(b)).map(([id, e]) => {
    const r = ratesOf(e, i.windowSeconds);
    return { id, kind: 'traffic' as const, source: e.source, target: e.target, ...r, health: edgeHealth(r), ...(e.via ? { via: e.via } : {}), flows: e.flows };
  });
  for (const x of serves) outEdges.push({ id: `${x.source}=>${x.target}`, kind: 'serves', source: x.source, target: x.target, rps: 0, errorRps: 0, errorShare: 0, health: 'healthy', flows: 0 });
  for (const n of nodes.values()) if (n.rates) n.detail += `; in: ${fmt(n.rates)}`;
  return { at: new Date(i.now).toISOString(), version: i.snapshot.version, windowSeconds: i.windowSeconds, nodes: [...nodes.values()], edges: outEdges, failover };
}

/** One line per edge, for the text alternative and logs. */
export function edgeText(e: GraphEdge): string {
  return `${e.source} → ${e.target}: ${fmt(e)} (${e.health})`;
}
