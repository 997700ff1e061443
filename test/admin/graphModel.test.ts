// The graph the dashboard draws, from control-plane state and proxy telemetry (pure functions).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGraph, edgeHealth, workloadName, type GraphInput } from '../../src/admin/graphModel.ts';
import { parsePrometheusText } from '../../src/admin/promtext.ts';
import { addFlows, histogramQuantile, parseWanted, proxyTotals, totalsDelta, windowFlows, type FlowCounts } from '../../src/admin/traffic.ts';
import { SeriesStore } from '../../src/admin/series.ts';
import { cluster, fakeProxyText, meshSnapshot, type FakeFlow } from './fixtures.ts';

const H = 'reviews.bookinfo.svc.cluster.local';
const flow = (from: string, fromRegion: string, to: string, toRegion: string, rps: number, extra: Partial<FakeFlow> = {}): FakeFlow =>
  ({ srcWorkload: 'productpage', srcCluster: from, srcRegion: fromRegion, dstService: H, dstCluster: to, dstRegion: toRegion, rps, ...extra });

/** The flows a proxy reported over `seconds`, as the collector would hand them to buildGraph. */
function flowsOver(flows: FakeFlow[], seconds: number): Map<string, FlowCounts> {
  const before = proxyTotals(parsePrometheusText(fakeProxyText(flows, 100)));
  const after = proxyTotals(parsePrometheusText(fakeProxyText(flows, 100 + seconds)));
  return totalsDelta(before, after).flows;
}

function input(over: Partial<GraphInput> = {}): GraphInput {
  const clusters = [cluster('east-1', 'us-east', 'net-east'), cluster('east-2', 'us-east', 'net-east'), cluster('west-1', 'us-west', 'net-west')];
  return { snapshot: meshSnapshot(clusters), clusters, proxies: [], flows: new Map(), windowSeconds: 3, now: Date.parse('2026-01-01T00:00:00Z'), ...over };
}

test('regions hold clusters and their gateways; clusters hold each service and its workloads', () => {
  const g = buildGraph(input());
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  assert.deepEqual(g.nodes.filter((n) => n.kind === 'region').map((n) => n.id).sort(), ['region/us-east', 'region/us-west']);
  assert.equal(byId.get('cluster/east-2')?.parent, 'region/us-east');
  assert.equal(byId.get('cluster/west-1')?.parent, 'region/us-west');
  assert.equal(byId.get('gateway/net-east')?.parent, 'region/us-east');
  assert.equal(byId.get('gateway/net-west')?.parent, 'region/us-west');
  const svc = byId.get('service/east-1/bookinfo/reviews');
  assert.equal(svc?.parent, 'cluster/east-1');
  assert.equal(svc?.service, 'bookinfo/reviews');
  assert.match(svc!.detail, /1\/2 endpoints ready/);
  assert.equal(byId.get('workload/east-1/reviews')?.label, 'reviews ×2');
  assert.ok(g.edges.some((e) => e.kind === 'serves' && e.source === 'service/west-1/bookinfo/reviews' && e.target === 'workload/west-1/reviews'));
  assert.equal(g.edges.filter((e) => e.kind === 'traffic').length, 0, 'no traffic, no traffic edge');
  assert.ok(g.nodes.every((n) => n.state === 'connected'));
});

test('traffic edges carry requests/s, 5xx share and p99; a cross-network request is drawn through the destination gateway', () => {
  const flows = flowsOver([
    flow('east-1', 'us-east', 'east-1', 'us-east', 20),
    flow('east-1', 'us-east', 'east-2', 'us-east', 10),
    flow('east-2', 'us-east', 'west-1', 'us-west', 4, { errorShare: 0.25, latencyMs: 40 }),
  ], 2);
  const g = buildGraph(input({ flows, windowSeconds: 2 }));
  const e = (id: string) => g.edges.find((x) => x.id === id);
  const local = e('workload/east-1/productpage->service/east-1/bookinfo/reviews');
  assert.equal(local?.rps, 20);
  assert.equal(local?.errorShare, 0);
  assert.equal(local?.health, 'healthy');
  assert.ok(local!.p99Ms! > 1 && local!.p99Ms! <= 5, `p99 in the 1–5 ms bucket, got ${local?.p99Ms}`);
  // same network (net-east): straight to the service in east-2, no gateway
  assert.ok(e('workload/east-1/productpage->service/east-2/bookinfo/reviews'));
  // east-2 → west-1 crosses into net-west: two segments through gateway/net-west
  const toGw = e('workload/east-2/productpage->gateway/net-west');
  const fromGw = e('gateway/net-west->service/west-1/bookinfo/reviews');
  assert.equal(toGw?.via, 'gateway/net-west');
  assert.equal(fromGw?.rps, 4);
  assert.equal(fromGw?.errorShare, 0.25);
  assert.equal(fromGw?.health, 'failing');
  assert.ok(fromGw!.p99Ms! > 25 && fromGw!.p99Ms! <= 50);
  assert.equal(e('workload/east-2/productpage->service/west-1/bookinfo/reviews'), undefined, 'not drawn around the gateway');
  assert.equal(g.nodes.find((n) => n.id === 'service/east-1/bookinfo/reviews')?.rates?.rps, 20);
});

test('a region whose clusters are all unreachable shows failover; its clusters and gateway unreachable, its services stale', () => {
  const clusters = [cluster('east-1', 'us-east', 'net-east', 'unreachable'), cluster('east-2', 'us-east', 'net-east', 'unreachable'), cluster('west-1', 'us-west', 'net-west')];
  const g = buildGraph(input({ clusters, snapshot: meshSnapshot(clusters, 2) }));
  const st = (id: string) => g.nodes.find((n) => n.id === id)?.state;
  assert.equal(st('region/us-east'), 'failover');
  assert.match(g.nodes.find((n) => n.id === 'region/us-east')!.label, /failover → us-west/);
  assert.deepEqual(g.failover, [{ region: 'us-east', to: 'us-west' }]);
  assert.equal(st('cluster/east-1'), 'unreachable');
  assert.equal(st('gateway/net-east'), 'unreachable');
  assert.equal(st('service/east-1/bookinfo/reviews'), 'stale');
  assert.equal(st('region/us-west'), 'connected');
  assert.equal(st('gateway/net-west'), 'connected');
  // one unreachable cluster of two is no failover
  const one = [cluster('east-1', 'us-east', 'net-east', 'unreachable'), cluster('east-2', 'us-east', 'net-east'), cluster('west-1', 'us-west', 'net-west')];
  assert.equal(buildGraph(input({ clusters: one, snapshot: meshSnapshot(one, 3) })).nodes.find((n) => n.id === 'region/us-east')?.state, 'connected');
});

test('a gateway ejection marks the service of its network as ejected; unknown workloads are idle, connected sidecars connected', () => {
  const flows = flowsOver([flow('west-1', 'us-west', 'west-1', 'us-west', 5)], 1);
  const g = buildGraph(input({
    flows, windowSeconds: 1, ejected: [{ host: H, network: 'net-west' }],
    proxies: [{ nodeId: 'sidecar~10.9.0.1~batch-7f9c6d5b8-x2kqp.bookinfo~bookinfo.svc.cluster.local', role: 'sidecar', cluster: 'east-1', network: 'net-east', connectedAt: '', types: {} }],
  }));
  const st = (id: string) => g.nodes.find((n) => n.id === id)?.state;
  assert.equal(st('service/west-1/bookinfo/reviews'), 'ejected');
  assert.equal(st('service/east-1/bookinfo/reviews'), 'connected');
  assert.equal(st('workload/west-1/productpage'), 'idle', 'seen in telemetry, no sidecar connected to xDS');
  assert.equal(st('workload/east-1/batch'), 'connected', 'a connected sidecar without a service is a workload before it sends traffic');
  assert.equal(workloadName('reviews-v1-5d9c7b8f4-x2kqp'), 'reviews-v1');
  assert.equal(workloadName('sleep'), 'sleep');
});

test('edge health: green, amber from 1% 5xx or p99 over 1 s, red from 5% 5xx', () => {
  assert.equal(edgeHealth({ rps: 1, errorRps: 0, errorShare: 0, p99Ms: 10 }), 'healthy');
  assert.equal(edgeHealth({ rps: 1, errorRps: 0, errorShare: 0.02, p99Ms: 10 }), 'degraded');
  assert.equal(edgeHealth({ rps: 1, errorRps: 0, errorShare: 0, p99Ms: 1500 }), 'degraded');
  assert.equal(edgeHealth({ rps: 1, errorRps: 0, errorShare: 0.05 }), 'failing');
});

test('scrape differences: a new proxy is a baseline, a restarted one (counter down) counts from zero, only source reports count', () => {
  const a = proxyTotals(parsePrometheusText(fakeProxyText([flow('east-1', 'us-east', 'east-1', 'us-east', 10)], 10)));
  assert.equal(totalsDelta(undefined, a).flows.size, 0);
  const b = proxyTotals(parsePrometheusText(fakeProxyText([flow('east-1', 'us-east', 'east-1', 'us-east', 10)], 12)));
  assert.equal([...totalsDelta(a, b).flows.values()][0]?.requests, 20);
  const restarted = proxyTotals(parsePrometheusText(fakeProxyText([flow('east-1', 'us-east', 'east-1', 'us-east', 10)], 3)));
  assert.equal([...totalsDelta(b, restarted).flows.values()][0]?.requests, 30);
  const dest = proxyTotals(parsePrometheusText('istio_requests_total{reporter="destination",destination_service="x",response_code="200"} 5\n'));
  assert.equal(dest.flows.size, 0);
  // the collector's scanner reads what the general parser reads, for the wanted metrics only
  const text = fakeProxyText([flow('east-1', 'us-east', 'west-1', 'us-west', 3, { errorShare: 0.5 })], 10)
    + '# HELP x\nistio_requests_totalx 2\nprocess_cpu 3\nistio_requests_total{reporter="destination",destination_service="x",response_code="200"} 5\n'
    + 'meshfed_gateway_outlier_ejections_total{service="outbound|8080||a \\"b\\".demo.svc.cluster.local"} 2\n';
  const general = parsePrometheusText(text).filter((x) => ['istio_requests_total', 'istio_request_duration_milliseconds_bucket', 'meshfed_gateway_outlier_ejections_total'].includes(x.name) && x.labels['reporter'] !== 'destination');
  assert.deepEqual(parseWanted(text), general);
  assert.equal(parseWanted(text).at(-1)?.labels['service'], 'outbound|8080||a "b".demo.svc.cluster.local');
  // window: the ticks of the last windowMs, added up
  const t = (at: number, n: number) => ({ at, seconds: 1, flows: addFlows(new Map(), new Map([['f', { key: a.flows.values().next().value!.key, requests: n, errors: 0, buckets: [n, n, n, n, n, n, n, n, n, n, n] }]])), ejections: new Map() });
  const w = windowFlows([t(1000, 5), t(2000, 7), t(3000, 9)], 3000, 1500);
  assert.equal(w.seconds, 2);
  assert.equal(w.flows.get('f')?.requests, 16);
});

test('p99 interpolates inside its bucket as histogram_quantile does', () => {
  assert.equal(histogramQuantile(0.99, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), undefined);
  assert.equal(histogramQuantile(0.5, [0, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100]), 3); // 1–5 ms, half way
  assert.equal(histogramQuantile(0.99, [0, 0, 0, 0, 0, 0, 0, 0, 0, 90, 100]), 5000); // in +Inf: its lower bound
});

test('sparkline series keep 5 minutes, a bounded number of points and a bounded number of series', () => {
  const s = new SeriesStore(300_000, 300, 3);
  for (let i = 0; i < 400; i++) s.add('e1', i * 1000, i, 0);
  const pts = s.get('e1', 399_000);
  assert.equal(pts.length, 300);
  assert.equal(pts[0]?.at, 100_000);
  assert.equal(pts.at(-1)?.rps, 399);
  assert.equal(s.get('e1', 650_000).length, 50, 'points older than 5 minutes are not returned');
  s.add('e2', 399_000, 1, 0); s.add('e3', 399_000, 1, 0); s.add('e4', 400_000, 1, 0);
  assert.equal(s.size, 3);
  assert.deepEqual(s.get('e1', 400_000), [], 'the series updated longest ago went first');
  s.prune(800_000);
  assert.equal(s.size, 0);
});
