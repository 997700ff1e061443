// In-memory AdminSources built from a real MeshSnapshot: 3 clusters in 2 regions.
import { emptySnapshot, type ClusterStatus, type Endpoint, type MeshService, type MeshSnapshot } from '../../src/mesh/types.ts';
import { EventBus } from '../../src/observe/events.ts';
import { newRegistry, Counter } from '../../src/observe/metrics.ts';
import type { AdminSources, ProxySync, ScrapeTarget } from '../../src/admin/sources.ts';

function ep(cluster: string, network: string, region: string, address: string, ready = true): Endpoint {
  return { cluster, network, locality: { region, zone: `${region}a`, subZone: '' }, address, ports: { http: 8080 }, ready, tlsMode: 'istio', inboundPort: 15006, labels: { app: 'reviews' } };
}

export function cluster(name: string, region: string, network: string, state: ClusterStatus['state'] = 'connected'): ClusterStatus {
  return { name, server: `https://${name}.example:6443`, network, region, state, since: new Date().toISOString(), lastSync: new Date(Date.now() - 5000).toISOString(), services: 1, endpoints: 2 };
}

export function meshSnapshot(clusters: ClusterStatus[], version = 1): MeshSnapshot {
  const reviews: MeshService = {
    namespace: 'bookinfo', name: 'reviews', hostname: 'reviews.bookinfo.svc.cluster.local',
    ports: [{ name: 'http', port: 9080, protocol: 'TCP', appProtocol: 'http' }],
    clusters: ['east-1', 'east-2', 'west-1'],
    endpoints: [ep('east-1', 'net-east', 'us-east', '10.1.0.1'), ep('east-1', 'net-east', 'us-east', '10.1.0.2', false), ep('east-2', 'net-east', 'us-east', '10.2.0.1'), ep('west-1', 'net-west', 'us-west', '10.3.0.1')],
    conflicts: [],
  };
  return emptySnapshot({
    version, builtAt: new Date().toISOString(), clusters,
    services: new Map([['bookinfo/reviews', reviews]]),
    gateways: [
      { network: 'net-east', region: 'us-east', cluster: 'east-1', address: '172.18.0.10', port: 15443 },
      { network: 'net-west', region: 'us-west', cluster: 'west-1', address: '172.18.0.20', port: 15443 },
    ],
    failover: { 'us-east': ['us-west'], 'us-west': ['us-east'] },
  });
}

export class MemorySources implements AdminSources {
  registry = newRegistry();
  events = new EventBus();
  readyState = { ready: false, reasons: ['cluster west-1 to sync'] as string[] };
  targets: ScrapeTarget[] = [];
  snap: MeshSnapshot;
  proxyList: ProxySync[] = [{
    nodeId: 'sidecar~10.1.0.1~reviews-v1.bookinfo~bookinfo.svc.cluster.local', role: 'sidecar', cluster: 'east-1', network: 'net-east',
    locality: { region: 'us-east', zone: 'us-easta', subZone: '' }, connectedAt: new Date().toISOString(),
    types: {
      'type.googleapis.com/envoy.config.cluster.v3.Cluster': { names: [], wildcard: true, versionSent: '3', versionAcked: '3', lastNonce: 'n1' },
      'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment': { names: ['outbound|9080||reviews.bookinfo.svc.cluster.local'], wildcard: false, versionSent: '4', versionAcked: '3', lastNonce: 'n2' },
      'type.googleapis.com/envoy.config.listener.v3.Listener': { names: [], wildcard: true, versionSent: '3', versionAcked: '3', lastNonce: 'n3' },
      'type.googleapis.com/envoy.config.route.v3.RouteConfiguration': { names: ['9080'], wildcard: false, versionSent: '2', versionAcked: '1', lastNonce: 'n4', lastNack: { nonce: 'n4', message: 'bad route', at: new Date().toISOString() } },
    },
  }];

  constructor() {
    this.snap = meshSnapshot([cluster('east-1', 'us-east', 'net-east'), cluster('east-2', 'us-east', 'net-east'), cluster('west-1', 'us-west', 'net-west')]);
    new Counter({ name: 'meshfed_xds_pushes_total', help: 'xDS pushes', labelNames: ['type'], registers: [this.registry] }).inc({ type: 'EDS' }, 3);
  }
  snapshot(): MeshSnapshot { return this.snap; }
  clusters(): readonly ClusterStatus[] { return this.snap.clusters; }
  proxies(): readonly ProxySync[] { return this.proxyList; }
  configDump(nodeId: string): unknown { return this.proxyList.some((p) => p.nodeId === nodeId) ? { configs: [{ '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump' }] } : undefined; }
  ready() { return this.readyState; }
  scrapeTargets(): readonly ScrapeTarget[] { return this.targets; }

  /** marks every cluster of a region unreachable and publishes the events a real control plane would */
  regionDown(region: string): void {
    const clusters = this.snap.clusters.map((c) => c.region === region ? { ...c, state: 'unreachable' as const, reason: 'watch failed: connect ECONNREFUSED', since: new Date().toISOString() } : c);
    this.snap = meshSnapshot(clusters, this.snap.version + 1);
    for (const c of clusters.filter((x) => x.region === region)) this.events.publish('cluster.unreachable', `cluster ${c.name} unreachable: ${c.reason}`, { cluster: c.name });
    this.events.publish('failover.started', `region ${region} down: traffic fails over`, { region });
  }
}

/** A proxy's /stats/prometheus whose istio_requests_total grows at the given rates (source reporter), for graph tests. */
export interface FakeFlow {
  srcWorkload: string; srcCluster: string; srcRegion: string;
  dstService: string; dstCluster: string; dstRegion: string;
  rps: number; errorShare?: number; latencyMs?: number;
}

export function fakeProxyText(flows: readonly FakeFlow[], seconds: number): string {
  const les = ['1', '5', '10', '25', '50', '100', '250', '500', '1000', '5000', '+Inf'];
  const out = ['# TYPE istio_requests_total counter', '# TYPE istio_request_duration_milliseconds histogram'];
  for (const f of flows) {
    const base = `reporter="source",source_workload="${f.srcWorkload}",source_cluster="${f.srcCluster}",source_region="${f.srcRegion}",destination_service="${f.dstService}",destination_cluster="${f.dstCluster}",destination_region="${f.dstRegion}"`;
    const total = Math.floor(f.rps * seconds);
    const errors = Math.floor(total * (f.errorShare ?? 0));
    out.push(`istio_requests_total{${base},response_code="200"} ${total - errors}`);
    if (errors > 0) out.push(`istio_requests_total{${base},response_code="503"} ${errors}`);
    const lat = f.latencyMs ?? 3;
    for (const le of les) out.push(`istio_request_duration_milliseconds_bucket{${base},response_code="200",le="${le}"} ${le === '+Inf' || Number(le) >= lat ? total : 0}`);
  }
  return out.join('\n') + '\n';
}

/** Starts an HTTP server answering fakeProxyText for its flows; `flows` can be replaced while it runs. */
export async function startFakeProxy(initial: FakeFlow[]): Promise<{ url: string; flows: FakeFlow[]; close(): Promise<void> }> {
  const { createServer } = await import('node:http');
  const started = Date.now();
  let flows = initial;
  // each flow's counter grows at its rate from when it is first listed, and stays (counters never go down)
  const acc = new Map<FakeFlow, { total: number; last: number }>();
  const server = createServer((_req, res) => {
    const now = Date.now();
    for (const f of flows) {
      const a = acc.get(f) ?? { total: 0, last: acc.size === 0 && f === initial[0] ? started : now };
      a.total += (f.rps * (now - a.last)) / 1000;
      a.last = now;
      acc.set(f, a);
    }
    res.end([...acc].map(([f, a]) => fakeProxyText([{ ...f, rps: a.total }], 1)).join(''));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/stats/prometheus`,
    get flows() { return flows; },
    set flows(v: FakeFlow[]) { flows = v; },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
