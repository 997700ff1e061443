// Pilot's snapshot cache alone: no gRPC server, no streams — snapshots in, resolved resources and versions out.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptySnapshot, type Endpoint, type MeshService, type MeshSnapshot } from '../../src/mesh/types.ts';
import { nodeClass, SnapshotCache } from '../../src/pilot/cache.ts';
import type { ProxyNode } from '../../src/pilot/node.ts';
import { compilePolicy } from '../../src/pilot/policy.ts';
import { TYPE_URL, unpackAny } from '../../src/xds/protos.ts';
import type { DestinationRule } from '../../src/policy/types.ts';

function ep(address: string, zone = 'z1', network = 'net1'): Endpoint {
  return { cluster: 'c1', network, locality: { region: 'r1', zone, subZone: '' }, address, ports: { http: 9090 }, ready: true, tlsMode: 'disabled', labels: {} };
}
function svc(name: string, eps: Endpoint[]): MeshService {
  return { namespace: 'demo', name, hostname: `${name}.demo.svc.cluster.local`, ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], clusters: ['c1'], endpoints: eps, conflicts: [] };
}
const snap = (svcs: MeshService[], partial: Partial<MeshSnapshot> = {}): MeshSnapshot => emptySnapshot({ services: new Map(svcs.map((s) => [`demo/${s.name}`, s])), ...partial });
const cl = (n: string) => `outbound|8080||${n}.demo.svc.cluster.local`;
const node = (id: string, p: Partial<ProxyNode> = {}): ProxyNode => ({ id, role: 'proxyless', cluster: 'c1', network: 'net1', locality: { region: 'r1', zone: 'z1', subZone: '' }, ...p });
const EDS = TYPE_URL.endpoint;
const addresses = (any: { type_url: string; value: Buffer }) => unpackAny<{ endpoints: { lb_endpoints: { endpoint: { address: { socket_address: { address: string } } } }[] }[] }>(any).endpoints.flatMap((l) => l.lb_endpoints.map((e) => e.endpoint.address.socket_address.address));
const priorities = (any: { type_url: string; value: Buffer }) => unpackAny<{ endpoints: { priority: number; lb_endpoints: { endpoint: { address: { socket_address: { address: string } } } }[] }[] }>(any).endpoints.map((l) => [l.priority, l.lb_endpoints[0]!.endpoint.address.socket_address.address]);

test('nodes of one class share encoded resources and versions; another zone gets its own priorities', () => {
  const c = new SnapshotCache();
  c.setSnapshot(snap([svc('a', [ep('10.0.0.1', 'z1'), ep('10.0.0.2', 'z2')])]));
  const x = c.resolve(node('x'), EDS, [cl('a')], false);
  const y = c.resolve(node('y'), EDS, [cl('a')], false);
  assert.equal(x.version, y.version);
  assert.equal(x.resources[0]!.any, y.resources[0]!.any, 'the same encoded object, not a copy');
  assert.equal(c.size(), 1);
  const z2 = c.resolve(node('z', { locality: { region: 'r1', zone: 'z2', subZone: '' } }), EDS, [cl('a')], false);
  assert.notEqual(z2.version, x.version);
  assert.deepEqual(priorities(x.resources[0]!.any), [[0, '10.0.0.1'], [1, '10.0.0.2']]);
  assert.deepEqual(priorities(z2.resources[0]!.any), [[0, '10.0.0.2'], [1, '10.0.0.1']]);
  assert.equal(c.size(), 2);
});

test('versions are content hashes: two caches (two replicas) fed equal snapshots agree; a change moves only its service', () => {
  const one = new SnapshotCache();
  const two = new SnapshotCache();
  one.setSnapshot(snap([svc('a', [ep('10.0.0.1')]), svc('b', [ep('10.0.0.2')])], { version: 1 }));
  two.setSnapshot(snap([svc('a', [ep('10.0.0.1')]), svc('b', [ep('10.0.0.2')])], { version: 99 }));
  const names = [cl('a'), cl('b')];
  const v1 = one.resolve(node('x'), EDS, names, false);
  assert.equal(two.resolve(node('x'), EDS, names, false).version, v1.version);
  // replace b only: a's entry is reused as is, b's is rebuilt, the version moves
  const a = one.snapshot.services.get('demo/a')!;
  one.setSnapshot(snap([a, svc('b', [ep('10.0.0.3')])]));
  const v2 = one.resolve(node('x'), EDS, names, false);
  assert.notEqual(v2.version, v1.version);
  assert.equal(v2.resources[0]!.any, v1.resources[0]!.any);
  assert.notEqual(v2.resources[1]!.hash, v1.resources[1]!.hash);
  // the same content again (a new but equal object) gives the old version back
  one.setSnapshot(snap([a, svc('b', [ep('10.0.0.2')])]));
  assert.equal(one.resolve(node('x'), EDS, names, false).version, v1.version);
});

test('unknown names resolve to nothing; wildcard CDS lists every cluster for a sidecar, LDS wildcard nothing for a gateway', () => {
  const c = new SnapshotCache();
  c.setSnapshot(snap([svc('a', []), svc('b', [])]));
  assert.equal(c.resolve(node('x'), EDS, [cl('nope')], false).resources.length, 0);
  const sidecar = c.resolve(node('s', { role: 'sidecar' }), TYPE_URL.cluster, [], true);
  assert.deepEqual(sidecar.resources.map((r) => r.name), [cl('a'), cl('b')]);
  assert.equal(c.resolve(node('g', { role: 'gateway' }), TYPE_URL.listener, [], true).resources.length, 0);
});

test('a gateway change rebuilds every entry even when the services are the same objects', () => {
  const c = new SnapshotCache();
  const a = svc('a', [ep('10.0.0.1'), ep('10.9.0.1', 'z1', 'net9')]);
  c.setSnapshot(snap([a]));
  const before = c.resolve(node('x'), EDS, [cl('a')], false);
  assert.deepEqual(addresses(before.resources[0]!.any), ['10.0.0.1'], 'net9 has no gateway yet: dropped');
  c.setSnapshot(snap([a], { gateways: [{ network: 'net9', region: 'r9', address: '192.0.2.9', port: 15443 }] }));
  const after = c.resolve(node('x'), EDS, [cl('a')], false);
  assert.notEqual(after.version, before.version);
  assert.deepEqual(addresses(after.resources[0]!.any), ['10.0.0.1', '192.0.2.9']);
});

test('sweep drops entries of removed services and of node classes nobody subscribes to', () => {
  const c = new SnapshotCache();
  const a = svc('a', [ep('10.0.0.1')]);
  c.setSnapshot(snap([a, svc('b', [ep('10.0.0.2')])]));
  const x = node('x');
  const far = node('far', { locality: { region: 'r2', zone: 'z9', subZone: '' } });
  c.resolve(x, EDS, [cl('a'), cl('b')], false);
  c.resolve(far, EDS, [cl('a')], false);
  assert.equal(c.size(), 3);
  c.setSnapshot(snap([a]));
  c.sweep([{ node: x, typeUrl: EDS }, { node: far, typeUrl: EDS }]);
  assert.equal(c.size(), 2, 'b left the mesh');
  c.sweep([{ node: x, typeUrl: EDS }]);
  assert.equal(c.size(), 1, "far's class has no subscriber");
  c.sweep([]);
  assert.equal(c.size(), 0);
});

test('a batch shares one resolution per class and subscription; outside a batch each call resolves', () => {
  const c = new SnapshotCache();
  c.setSnapshot(snap([svc('a', [ep('10.0.0.1')])]));
  const [r1, r2, other] = c.batch(() => [c.resolve(node('x'), EDS, [cl('a')], false), c.resolve(node('y'), EDS, [cl('a')], false), c.resolve(node('x'), EDS, [], false)]);
  assert.equal(r1, r2);
  assert.notEqual(r1, other);
  assert.notEqual(c.resolve(node('x'), EDS, [cl('a')], false), c.resolve(node('y'), EDS, [cl('a')], false));
});

test('policy: the same version is no change; failoverPriority splits EDS classes by client labels', () => {
  const c = new SnapshotCache();
  assert.equal(c.setPolicy(compilePolicy({ virtualServices: [], destinationRules: [] })), false);
  const web = node('w', { labels: { app: 'web' } });
  const api = node('p', { labels: { app: 'api' } });
  assert.equal(nodeClass(web, EDS, false), nodeClass(api, EDS, false));
  const dr: DestinationRule = {
    kind: 'DestinationRule', metadata: { name: 'a', namespace: 'demo', generation: 1 },
    spec: { host: 'a.demo.svc.cluster.local', trafficPolicy: { loadBalancer: { localityLbSetting: { enabled: true, failoverPriority: ['app'] } } } },
  };
  assert.equal(c.setPolicy(compilePolicy({ virtualServices: [], destinationRules: [dr] })), true);
  c.setSnapshot(snap([svc('a', [{ ...ep('10.0.0.1'), labels: { app: 'web' } }, { ...ep('10.0.0.2'), labels: { app: 'api' } }])]));
  const w = c.resolve(web, EDS, [cl('a')], false);
  const p = c.resolve(api, EDS, [cl('a')], false);
  assert.notEqual(w.version, p.version);
  assert.deepEqual(priorities(w.resources[0]!.any), [[0, '10.0.0.1'], [1, '10.0.0.2']]);
  assert.deepEqual(priorities(p.resources[0]!.any), [[0, '10.0.0.2'], [1, '10.0.0.1']]);
  // CDS does not depend on labels: one class
  assert.equal(nodeClass(web, TYPE_URL.cluster, true), nodeClass(api, TYPE_URL.cluster, true));
});
