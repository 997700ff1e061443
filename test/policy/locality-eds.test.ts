// DestinationRule localityLbSetting.failover in the EDS pilot serves: the named region comes first after the
// client's own region, for clients in the `from` region only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptySnapshot, type Endpoint, type MeshService, type MeshSnapshot } from '../../src/mesh/types.ts';
import type { ProxyNode } from '../../src/pilot/node.ts';
import { compilePolicy } from '../../src/pilot/policy.ts';
import { translate } from '../../src/pilot/translate.ts';
import type { DestinationRule, LocalityLbSetting } from '../../src/policy/types.ts';
import { packAny, TYPE_URL, unpackAny } from '../../src/xds/protos.ts';

const HOST = 'echo.demo.svc.cluster.local';
const CL = `outbound|8080||${HOST}`;
const ep = (address: string, region: string, version: string): Endpoint => ({ cluster: `c-${region}`, network: 'net1', locality: { region, zone: 'z1', subZone: '' }, address, ports: { http: 9090 }, ready: true, tlsMode: 'disabled', labels: { version } });
const snapshot: MeshSnapshot = emptySnapshot({
  services: new Map<string, MeshService>([['demo/echo', { namespace: 'demo', name: 'echo', hostname: HOST, ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], clusters: ['c-r1'], conflicts: [],
    endpoints: [ep('10.0.0.1', 'r1', 'v1'), ep('10.0.0.2', 'r2', 'v1'), ep('10.0.0.3', 'r3', 'v1')] }]]),
  failover: { r1: ['r2', 'r3'], r2: ['r1', 'r3'] },
});
const node = (region: string): ProxyNode => ({ id: 'n', role: 'proxyless', cluster: `c-${region}`, network: 'net1', locality: { region, zone: 'z1', subZone: '' } });
const dr = (top?: LocalityLbSetting, subset?: LocalityLbSetting): DestinationRule => ({ kind: 'DestinationRule', metadata: { namespace: 'demo', name: 'echo', generation: 1 },
  spec: { host: HOST, ...(top ? { trafficPolicy: { loadBalancer: { localityLbSetting: top } } } : {}),
    subsets: [{ name: 'v1', labels: { version: 'v1' }, ...(subset ? { trafficPolicy: { loadBalancer: { localityLbSetting: subset } } } : {}) }] } });

/** region order by EDS priority, as a client would fail over */
function order(n: ProxyNode, d?: DestinationRule, cluster = CL): string[] {
  const policy = compilePolicy({ virtualServices: [], destinationRules: d ? [d] : [] });
  const r = translate(snapshot, n, TYPE_URL.endpoint, [cluster], false, policy).resources.get(cluster);
  assert.ok(r, `no EDS for ${cluster}`);
  const cla = unpackAny<{ endpoints: { locality: { region: string }; priority: number }[] }>(packAny(TYPE_URL.endpoint, r));
  return [...cla.endpoints].sort((a, b) => a.priority - b.priority).map((l) => `${l.priority}:${l.locality.region}`);
}

test('without a DestinationRule the mesh failover order holds', () => {
  assert.deepEqual(order(node('r1')), ['0:r1', '1:r2', '2:r3']);
});

test('localityLbSetting.failover from r1 to r3 puts r3 before r2 for r1 clients only', () => {
  const d = dr({ failover: [{ from: 'r1', to: 'r3' }] });
  assert.deepEqual(order(node('r1'), d), ['0:r1', '1:r3', '2:r2']);
  assert.deepEqual(order(node('r2'), d), ['0:r2', '1:r1', '2:r3'], 'clients in other regions keep the mesh order');
});

test('a subset\'s localityLbSetting overrides the top-level one for that subset cluster; enabled: false ignores failover', () => {
  const d = dr({ failover: [{ from: 'r1', to: 'r3' }] }, { failover: [{ from: 'r1', to: 'r2' }] });
  assert.deepEqual(order(node('r1'), d, `outbound|8080|v1|${HOST}`), ['0:r1', '1:r2', '2:r3']);
  assert.deepEqual(order(node('r1'), d), ['0:r1', '1:r3', '2:r2']);
  assert.deepEqual(order(node('r1'), dr({ enabled: false, failover: [{ from: 'r1', to: 'r3' }] })), ['0:r1', '1:r2', '2:r3']);
});

// failoverPriority and distribute, served in EDS
const HOST2 = 'api.demo.svc.cluster.local';
const CL2 = `outbound|8080||${HOST2}`;
const ep2 = (address: string, region: string, zone: string, cluster: string, network: string, labels: Record<string, string> = {}): Endpoint => ({ cluster, network, locality: { region, zone, subZone: '' }, address, ports: { http: 9090 }, ready: true, tlsMode: 'disabled', labels });
const snap2 = emptySnapshot({
  services: new Map<string, MeshService>([['demo/api', { namespace: 'demo', name: 'api', hostname: HOST2, ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], clusters: ['a', 'b'], conflicts: [], endpoints: [
    ep2('10.1.0.1', 'r1', 'z1', 'a', 'net1', { tier: 'gold' }),
    ep2('10.1.0.2', 'r1', 'z2', 'a', 'net1', { tier: 'gold' }),
    ep2('10.1.0.3', 'r1', 'z1', 'b', 'net1', { tier: 'bronze' }),
    ep2('10.2.0.1', 'r2', 'z1', 'c', 'net1', { tier: 'gold' }),
    ep2('10.2.0.2', 'r2', 'z2', 'c', 'net1', { tier: 'gold' }),
  ] }]]),
  failover: { r1: ['r2'], r2: ['r1'] },
});
function cla(n: ProxyNode, setting: LocalityLbSetting): { priority: number; zone: string; region: string; weight: number; addresses: string[] }[] {
  const d: DestinationRule = { kind: 'DestinationRule', metadata: { namespace: 'demo', name: 'api', generation: 1 }, spec: { host: HOST2, trafficPolicy: { loadBalancer: { localityLbSetting: setting } } } };
  const r = translate(snap2, n, TYPE_URL.endpoint, [CL2], false, compilePolicy({ virtualServices: [], destinationRules: [d] })).resources.get(CL2)!;
  const c = unpackAny<{ endpoints: { priority: number; locality: { region: string; zone: string }; load_balancing_weight: { value: number }; lb_endpoints: { endpoint: { address: { socket_address: { address: string } } } }[] }[] }>(packAny(TYPE_URL.endpoint, r));
  return c.endpoints.map((l) => ({ priority: l.priority, region: l.locality.region, zone: l.locality.zone, weight: l.load_balancing_weight.value, addresses: l.lb_endpoints.map((e) => e.endpoint.address.socket_address.address) }))
    .sort((a, b) => a.priority - b.priority || a.addresses[0]!.localeCompare(b.addresses[0]!));
}
const client2 = (labels?: Record<string, string>): ProxyNode => ({ id: 'n', role: 'proxyless', cluster: 'a', network: 'net1', locality: { region: 'r1', zone: 'z1', subZone: '' }, ...(labels ? { labels } : {}) });

test('failoverPriority: endpoints sharing the leading labels with the client come first, then by locality; priorities contiguous', () => {
  // [tier, cluster]: gold+a → rank 0, gold in another cluster → 1, bronze → 2; within a rank the closest locality first (other-region zones share a priority)
  const out = cla(client2({ tier: 'gold' }), { failoverPriority: ['tier', 'topology.istio.io/cluster'] });
  assert.deepEqual(out.map((l) => [l.priority, l.addresses.join('+')]), [[0, '10.1.0.1'], [1, '10.1.0.2'], [2, '10.2.0.1'], [2, '10.2.0.2'], [3, '10.1.0.3']]);
  // a client without the label: nothing matches the first key, so every endpoint ranks equally → plain locality order
  const plain = cla(client2(), { failoverPriority: ['tier'] });
  assert.deepEqual(plain.map((l) => [l.priority, l.addresses.join('+')]), [[0, '10.1.0.1+10.1.0.3'], [1, '10.1.0.2'], [2, '10.2.0.1'], [2, '10.2.0.2']]);
});

test('distribute: a client in the `from` locality gets the fixed locality weights at one priority; unlisted localities get nothing', () => {
  const out = cla(client2(), { distribute: [{ from: 'r1/z1/*', to: { 'r1/z1/*': 80, 'r2/*': 20 } }] });
  assert.deepEqual(out.map((l) => [l.priority, `${l.region}/${l.zone}`, l.weight]), [[0, 'r1/z1', 80000], [0, 'r2/z1', 10000], [0, 'r2/z2', 10000]]);
  // a client elsewhere is not affected
  const other = cla({ ...client2(), locality: { region: 'r2', zone: 'z1', subZone: '' } }, { distribute: [{ from: 'r1/z1/*', to: { 'r1/z1/*': 100 } }] });
  assert.deepEqual(other.map((l) => l.priority), [0, 1, 2, 2]);
});
