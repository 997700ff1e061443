import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MergeCache, federatedNamespaces, mergeClusters } from '../../src/federation/merge.ts';
import { node, ns, pod, slice, svc, view } from './fixtures.ts';

const now = new Date('2026-02-02T00:00:00Z');
const FED = { 'meshfed.io/federation': 'enabled' };

function clusterA() {
  return view('a', {
    namespaces: [ns('demo', FED), ns('other')],
    services: [svc('demo', 'echo', [['http', 8080]]), svc('other', 'hidden', [['http', 80]])],
    nodes: [node('n1', { 'topology.kubernetes.io/region': 'eu', 'topology.kubernetes.io/zone': 'eu-1', 'topology.istio.io/subzone': 'rack7' })],
    pods: [
      pod('demo', 'echo-1', { labels: { app: 'echo', 'security.istio.io/tlsMode': 'istio' }, annotations: { 'meshfed.io/inbound-port': '16006' }, sa: 'echo-sa', node: 'n1' }),
      pod('demo', 'echo-2', { labels: { app: 'echo' }, node: 'n1' }),
    ],
    endpointSlices: [slice('demo', 'echo', [['http', 9090]], [
      { ip: '10.0.0.1', pod: 'echo-1', node: 'n1' },
      { ip: '10.0.0.2', pod: 'echo-2', node: 'n1', ready: false },
    ]), slice('other', 'hidden', [['http', 80]], [{ ip: '10.0.0.9' }])],
  });
}

test('endpoints carry locality from node labels, network from the cluster, tlsMode/inboundPort/SA from the pod, ready from the slice', () => {
  const snap = mergeClusters([clusterA()], { version: 3, now });
  assert.equal(snap.version, 3);
  assert.deepEqual([...snap.services.keys()], ['demo/echo'], 'only federated namespaces are in the snapshot');
  const echo = snap.services.get('demo/echo')!;
  assert.equal(echo.hostname, 'echo.demo.svc.cluster.local');
  assert.deepEqual(echo.ports, [{ name: 'http', port: 8080, protocol: 'TCP', appProtocol: 'http' }]);
  const [e1, e2] = echo.endpoints;
  assert.deepEqual(e1!.locality, { region: 'eu', zone: 'eu-1', subZone: 'rack7' });
  assert.equal(e1!.network, 'net-a');
  assert.equal(e1!.cluster, 'a');
  assert.deepEqual(e1!.ports, { http: 9090 });
  assert.equal(e1!.tlsMode, 'istio');
  assert.equal(e1!.inboundPort, 16006);
  assert.equal(e1!.serviceAccount, 'echo-sa');
  assert.equal(e1!.ready, true);
  assert.equal(e2!.tlsMode, 'disabled');
  assert.equal(e2!.inboundPort, undefined);
  assert.equal(e2!.serviceAccount, 'default');
  assert.equal(e2!.ready, false);
  assert.equal(snap.clusters[0]!.services, 1);
  assert.equal(snap.clusters[0]!.endpoints, 2);
  assert.ok(Object.isFrozen(snap) && Object.isFrozen(echo.endpoints));
});

test('same namespace/name in two clusters is one service; a meshfed replica is not a source', () => {
  const b = view('b', {
    namespaces: [ns('demo')],
    services: [svc('demo', 'echo', [['http', 8080]], { created: '2026-01-05T00:00:00Z' }), svc('demo', 'replica-only', [['http', 1]], { labels: { 'app.kubernetes.io/managed-by': 'meshfed' } })],
    endpointSlices: [slice('demo', 'echo', [['http', 9090]], [{ ip: '10.1.0.1', zone: 'z-b' }])],
  });
  const snap = mergeClusters([b, clusterA()], { version: 1, now });
  const echo = snap.services.get('demo/echo')!;
  assert.deepEqual(echo.clusters, ['a', 'b']);
  assert.deepEqual(echo.endpoints.map((e) => `${e.cluster}:${e.address}`).sort(), ['a:10.0.0.1', 'a:10.0.0.2', 'b:10.1.0.1']);
  const eb = echo.endpoints.find((e) => e.cluster === 'b')!;
  assert.deepEqual(eb.locality, { region: 'region-b', zone: 'z-b', subZone: '' }, 'no node: region from the registration, zone from the slice');
  assert.equal(snap.services.has('demo/replica-only'), false);
  assert.deepEqual(echo.conflicts, []);
});

test('port conflicts: the oldest definition wins and the loser is recorded', () => {
  const a = view('a', { namespaces: [ns('demo', FED)], services: [svc('demo', 'echo', [['http', 8080]], { created: '2026-01-10T00:00:00Z' })] });
  const b = view('b', { namespaces: [ns('demo')], services: [svc('demo', 'echo', [['http', 9999]], { created: '2026-01-01T00:00:00Z' })] });
  const echo = mergeClusters([a, b], { version: 1, now }).services.get('demo/echo')!;
  assert.equal(echo.ports[0]!.port, 9999);
  assert.equal(echo.conflicts.length, 1);
  assert.equal(echo.conflicts[0]!.cluster, 'a');
  assert.equal(echo.conflicts[0]!.winner, 'b');
  assert.match(echo.conflicts[0]!.detail, /8080/);
});

test('an unreachable cluster keeps its endpoints, marked with the time it went away', () => {
  const a = clusterA();
  const down = { ...a, status: { ...a.status, state: 'unreachable' as const, since: '2026-02-01T12:00:00.000Z' } };
  const echo = mergeClusters([down], { version: 1, now }).services.get('demo/echo')!;
  assert.equal(echo.endpoints.length, 2);
  for (const e of echo.endpoints) assert.equal(e.staleSince, '2026-02-01T12:00:00.000Z');
  const fresh = mergeClusters([a], { version: 1, now }).services.get('demo/echo')!;
  for (const e of fresh.endpoints) assert.equal(e.staleSince, undefined);
});

test('network falls back to kube-system label; gateways come from labelled Services; failover from config', () => {
  const gw = svc('meshfed-system', 'eastwest', [['tls', 15443]], { labels: { 'meshfed.io/gateway': 'eastwest', 'topology.istio.io/network': 'net-x' } });
  gw.status = { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } };
  const c = view('c', { status: { network: '' }, namespaces: [ns('kube-system', { 'topology.istio.io/network': 'net-ks' })], services: [gw] });
  const snap = mergeClusters([c], { version: 1, now, failover: { 'region-c': ['eu', 'us'] } });
  assert.equal(snap.clusters[0]!.network, 'net-ks');
  assert.deepEqual(snap.gateways, [{ network: 'net-x', region: 'region-c', cluster: 'c', address: '192.0.2.10', port: 15443 }]);
  assert.deepEqual(snap.failover, { 'region-c': ['eu', 'us'] });
  assert.equal(snap.services.size, 0, 'the gateway Service is not a mesh service');
});

test('--federate-all federates every non-system namespace', () => {
  const c = view('c', { namespaces: [ns('kube-system'), ns('meshfed-system'), ns('apps'), ns('kube-public')] });
  assert.deepEqual([...federatedNamespaces([c], true)], ['apps']);
  assert.deepEqual([...federatedNamespaces([c], false)], []);
});

test('re-merging after a change reflects it (cached endpoints are invalidated) and unchanged inputs give equal results', () => {
  const a = clusterA();
  const cache = new MergeCache();
  const first = mergeClusters([a], { version: 1, now, cache });
  const again = mergeClusters([a], { version: 2, now, cache });
  assert.deepEqual(again.services.get('demo/echo')!.endpoints, first.services.get('demo/echo')!.endpoints);
  const pods = a.pods.map((p) => (p.metadata?.name === 'echo-2' ? { ...p, metadata: { ...p.metadata, labels: { 'security.istio.io/tlsMode': 'istio' } } } : p));
  const changedPods = mergeClusters([{ ...a, pods }], { version: 3, now, cache }).services.get('demo/echo')!;
  assert.equal(changedPods.endpoints.find((e) => e.address === '10.0.0.2')!.tlsMode, 'istio');
  const slices = a.endpointSlices.map((s) => (s.metadata?.labels?.['kubernetes.io/service-name'] === 'echo' ? { ...s, endpoints: s.endpoints.slice(0, 1) } : s));
  const changedSlices = mergeClusters([{ ...a, endpointSlices: slices }], { version: 4, now, cache }).services.get('demo/echo')!;
  assert.deepEqual(changedSlices.endpoints.map((e) => e.address), ['10.0.0.1']);
  const nodes = [{ metadata: { name: 'n1', labels: { 'topology.kubernetes.io/region': 'us' } } }];
  const changedNodes = mergeClusters([{ ...a, nodes }], { version: 5, now, cache }).services.get('demo/echo')!;
  assert.equal(changedNodes.endpoints[0]!.locality.region, 'us');
});

test('with the previous snapshot, unchanged services are reused and changed ones rebuilt', () => {
  const a = clusterA();
  const b = view('b', { namespaces: [ns('demo', FED)], services: [svc('demo', 'other', [['http', 80]])] });
  const cache = new MergeCache();
  const first = mergeClusters([a, b], { version: 1, now, cache });
  const slices = a.endpointSlices.map((s) => (s.metadata?.labels?.['kubernetes.io/service-name'] === 'echo' ? { ...s, endpoints: s.endpoints.slice(0, 1) } : s));
  const second = mergeClusters([{ ...a, endpointSlices: slices }, b], { version: 2, now, previous: first, cache });
  assert.equal(second.services.get('demo/other'), first.services.get('demo/other'));
  assert.notEqual(second.services.get('demo/echo'), first.services.get('demo/echo'));
  assert.deepEqual(second.services.get('demo/echo')!.endpoints.map((e) => e.address), ['10.0.0.1']);
  const down = mergeClusters([{ ...a, endpointSlices: slices }, { ...b, status: { ...b.status, state: 'unreachable', since: '2026-02-01T00:00:00.000Z' } }], { version: 3, now, previous: second, cache });
  assert.equal(down.services.get('demo/echo'), second.services.get('demo/echo'));
});

test('port conflicts on a creationTimestamp tie (same second, sub-second parts ignored): the cluster whose name sorts first wins, in any input order', () => {
  const def = (cluster: string, port: number, created: string) => view(cluster, { namespaces: [ns('demo', FED)], services: [svc('demo', 's7', [['p', port]], { created })] });
  const east = def('east-2', 8007, '2026-01-10T00:00:00.900Z');
  const west = def('west-1', 9999, '2026-01-10T00:00:00.100Z');
  for (const order of [[east, west], [west, east]]) {
    const s7 = mergeClusters(order, { version: 1, now }).services.get('demo/s7')!;
    assert.deepEqual(s7.ports.map((p) => p.port), [8007]);
    assert.deepEqual(s7.conflicts.map((c) => [c.cluster, c.winner]), [['west-1', 'east-2']]);
  }
  // a second apart, the older wins whatever the names
  const older = mergeClusters([def('east-2', 8007, '2026-01-10T00:00:01Z'), west], { version: 1, now }).services.get('demo/s7')!;
  assert.deepEqual(older.ports.map((p) => p.port), [9999]);
});
