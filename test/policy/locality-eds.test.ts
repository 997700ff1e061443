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
