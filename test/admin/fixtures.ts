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
