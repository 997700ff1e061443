import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptySnapshot, type Endpoint, type MeshService, type MeshSnapshot } from '../../src/mesh/types.ts';
import { parseNode, type ProxyNode } from '../../src/pilot/node.ts';
import { translate } from '../../src/pilot/translate.ts';
import { packAny, TYPE_URL, unpackAny } from '../../src/xds/protos.ts';

const HOST = 'echo.demo.svc.cluster.local';
const CL = `outbound|8080||${HOST}`;

function ep(address: string, cluster: string, network: string, region: string, zone: string, extra: Partial<Endpoint> = {}): Endpoint {
  return { cluster, network, locality: { region, zone, subZone: '' }, address, ports: { http: 9090 }, ready: true, tlsMode: 'istio', inboundPort: 15006, labels: {}, ...extra };
}

function snap(endpoints: Endpoint[], partial: Partial<MeshSnapshot> = {}): MeshSnapshot {
  const svc: MeshService = { namespace: 'demo', name: 'echo', hostname: HOST, ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], clusters: ['c1'], endpoints, conflicts: [] };
  return emptySnapshot({ services: new Map([['demo/echo', svc]]), ...partial });
}

function node(partial: Partial<ProxyNode> = {}): ProxyNode {
  return { id: 'n1', role: 'proxyless', cluster: 'c1', network: 'net1', locality: { region: 'r1', zone: 'z1', subZone: '' }, ...partial };
}

interface Cla { endpoints: { locality: { region: string; zone: string }; priority: number; load_balancing_weight: { value: number }; lb_endpoints: { endpoint: { address: { socket_address: { address: string; port_value: number } } }; load_balancing_weight: { value: number } }[] }[] }

function eds(s: MeshSnapshot, n: ProxyNode, name = CL): Cla {
  const r = translate(s, n, TYPE_URL.endpoint, [name]).resources.get(name);
  assert.ok(r, `no EDS for ${name}`);
  return unpackAny<Cla>(packAny(TYPE_URL.endpoint, r));
}

const addrs = (c: Cla) => c.endpoints.map((l) => ({ p: l.priority, a: l.lb_endpoints.map((e) => `${e.endpoint.address.socket_address.address}:${e.endpoint.address.socket_address.port_value}`).join(',') }));

test('priorities: same zone 0, same region 1, failover order next, rest by name; contiguous', () => {
  const s = snap(
    [ep('10.0.0.1', 'c1', 'net1', 'r1', 'z1'), ep('10.0.0.2', 'c1', 'net1', 'r1', 'z2'), ep('10.0.0.3', 'c2', 'net1', 'r3', 'z1'), ep('10.0.0.4', 'c3', 'net1', 'r2', 'z1'), ep('10.0.0.5', 'c4', 'net1', 'r0', 'z1')],
    { failover: { r1: ['r3'] } },
  );
  assert.deepEqual(addrs(eds(s, node())), [
    { p: 0, a: '10.0.0.1:9090' },
    { p: 1, a: '10.0.0.2:9090' },
    { p: 2, a: '10.0.0.3:9090' },
    { p: 3, a: '10.0.0.5:9090' },
    { p: 4, a: '10.0.0.4:9090' },
  ]);
  // no local endpoints: priorities still start at 0
  const far = eds(snap([ep('10.0.0.4', 'c3', 'net1', 'r2', 'z1')]), node());
  assert.deepEqual(addrs(far), [{ p: 0, a: '10.0.0.4:9090' }]);
});

test('not-ready endpoints are omitted; stale endpoints are still served; every locality has a weight', () => {
  const s = snap([ep('10.0.0.1', 'c1', 'net1', 'r1', 'z1', { ready: false }), ep('10.0.0.2', 'c1', 'net1', 'r1', 'z1', { staleSince: '2026-01-01T00:00:00Z' }), ep('10.0.0.3', 'c1', 'net1', 'r1', 'z2')]);
  const c = eds(s, node());
  assert.deepEqual(addrs(c), [{ p: 0, a: '10.0.0.2:9090' }, { p: 1, a: '10.0.0.3:9090' }]);
  for (const l of c.endpoints) assert.ok(l.load_balancing_weight.value >= 1);
});

test('split horizon: remote network endpoints become one gateway endpoint per locality for a sidecar, one per gateway for a proxyless client, weighted; no gateway → dropped with a warning', () => {
  const eps = [ep('10.0.0.1', 'c1', 'net1', 'r1', 'z1'), ep('10.1.0.1', 'c2', 'net2', 'r2', 'z1'), ep('10.1.0.2', 'c2', 'net2', 'r2', 'z1'), ep('10.1.0.3', 'c2', 'net2', 'r2', 'z2'), ep('10.2.0.1', 'c3', 'net3', 'r3', 'z1')];
  const s = snap(eps, { gateways: [{ network: 'net2', region: 'r2', address: '192.0.2.2', port: 15443 }] });
  const sidecar = unpackAny<Cla>(packAny(TYPE_URL.endpoint, translate(s, node({ role: 'sidecar' }), TYPE_URL.endpoint, [CL]).resources.get(CL)!));
  assert.deepEqual(addrs(sidecar), [{ p: 0, a: '10.0.0.1:15006' }, { p: 1, a: '192.0.2.2:15443' }, { p: 1, a: '192.0.2.2:15443' }]);
  assert.deepEqual(sidecar.endpoints.slice(1).map((l) => l.lb_endpoints[0]!.load_balancing_weight.value).sort(), [1, 2]);
  // grpc-js-xds rejects a CLA that lists an address twice: a proxyless client gets the gateway once, standing for all 3
  const r = translate(s, node(), TYPE_URL.endpoint, [CL]);
  const c = unpackAny<Cla>(packAny(TYPE_URL.endpoint, r.resources.get(CL)!));
  assert.deepEqual(addrs(c), [{ p: 0, a: '10.0.0.1:9090' }, { p: 1, a: '192.0.2.2:15443' }]);
  assert.equal(c.endpoints[1]!.lb_endpoints[0]!.load_balancing_weight.value, 3);
  assert.equal(c.endpoints[1]!.load_balancing_weight.value, 3);
  assert.ok(r.warnings.some((w) => w.includes('10.2.0.1') && w.includes('net3')));
});

test('proxyless: a gateway standing for localities at several priorities is kept once, at the best; failover order holds', () => {
  // the client is in r1/z1; net2 spans r2 (its failover region) and r4 (not listed): before folding, the gateway sat
  // at priority 2 (r2) and 4 (r4), with r3 (net1, listed after r2) at 3 between them
  const eps = [ep('10.0.0.1', 'c1', 'net1', 'r1', 'z1'), ep('10.0.0.2', 'c1', 'net1', 'r1', 'z2'), ep('10.1.0.1', 'c2', 'net2', 'r2', 'z1'), ep('10.1.0.2', 'c2', 'net2', 'r2', 'z2'), ep('10.3.0.1', 'c3', 'net1', 'r3', 'z1'), ep('10.4.0.1', 'c4', 'net2', 'r4', 'z1'), ep('10.4.0.2', 'c4', 'net2', 'r4', 'z1')];
  const s = snap(eps, { failover: { r1: ['r2', 'r3'] }, gateways: [{ network: 'net2', region: 'r2', address: '192.0.2.2', port: 15443 }] });
  assert.deepEqual(addrs(eds(s, node({ role: 'sidecar' }))).map((x) => `${x.p} ${x.a}`), ['0 10.0.0.1:15006', '1 10.0.0.2:15006', '2 192.0.2.2:15443', '2 192.0.2.2:15443', '3 10.3.0.1:15006', '4 192.0.2.2:15443']);
  const c = eds(s, node());
  assert.deepEqual(addrs(c).map((x) => `${x.p} ${x.a}`), ['0 10.0.0.1:9090', '1 10.0.0.2:9090', '2 192.0.2.2:15443', '3 10.3.0.1:9090']);
  assert.equal(c.endpoints[2]!.lb_endpoints[0]!.load_balancing_weight.value, 4, 'r2 (2 endpoints) and r4 (2 endpoints)');
});

test('proxyless: the playground topology gives every client a ClusterLoadAssignment grpc-js-xds accepts', async () => {
  // grpc-js-xds's own validation (the one that NACKed): east-1 has two zones and west-1 two zones behind one gateway each
  const { EndpointResourceType } = (await import('@grpc/grpc-js-xds/build/src/xds-resource-type/endpoint-resource-type.js')) as unknown as { EndpointResourceType: { get(): { decode(ctx: unknown, any: unknown): { name: string; error?: string } } } };
  const eps = [
    ep('127.1.1.10', 'east-1', 'net-east', 'us-east', 'us-east-1a'), ep('127.1.1.11', 'east-1', 'net-east', 'us-east', 'us-east-1b'),
    ep('127.2.1.10', 'east-2', 'net-east', 'us-east', 'us-east-1c'),
    ep('127.3.1.10', 'west-1', 'net-west', 'us-west', 'us-west-1a'), ep('127.3.1.11', 'west-1', 'net-west', 'us-west', 'us-west-1b'),
  ];
  const s = snap(eps, {
    failover: { 'us-east': ['us-west'], 'us-west': ['us-east'] },
    gateways: [{ network: 'net-east', region: 'us-east', address: '127.1.255.1', port: 15443 }, { network: 'net-west', region: 'us-west', address: '127.3.255.1', port: 15443 }],
  });
  const clients = [node({ network: 'net-east', cluster: 'east-1', locality: { region: 'us-east', zone: 'us-east-1a', subZone: '' } }), node({ network: 'net-west', cluster: 'west-1', locality: { region: 'us-west', zone: 'us-west-1a', subZone: '' } })];
  const rejected = (n: ProxyNode, role: ProxyNode['role']) => EndpointResourceType.get().decode({}, packAny(TYPE_URL.endpoint, translate(s, { ...n, role }, TYPE_URL.endpoint, [CL]).resources.get(CL)!)).error;
  for (const n of clients) {
    assert.match(rejected(n, 'sidecar') ?? '', /duplicate/, 'a sidecar still gets one gateway entry per locality (this check is live)');
    assert.equal(rejected(n, 'proxyless'), undefined, `${n.locality.zone}`);
  }
  assert.deepEqual(addrs(eds(s, clients[0]!)).map((x) => `${x.p} ${x.a}`), ['0 127.1.1.10:9090', '1 127.1.1.11:9090', '1 127.2.1.10:9090', '2 127.3.255.1:15443']);
  const west = eds(s, clients[1]!);
  assert.deepEqual(addrs(west).map((x) => `${x.p} ${x.a}`), ['0 127.3.1.10:9090', '1 127.3.1.11:9090', '2 127.1.255.1:15443']);
  assert.equal(west.endpoints[2]!.load_balancing_weight.value, 3, 'the east gateway stands for 3 endpoints in 3 zones');
});

test('roles: sidecar gets meshed endpoints at the inbound port; gateway gets only its own network, SNI-named', () => {
  const eps = [ep('10.0.0.1', 'c1', 'net1', 'r1', 'z1'), ep('10.0.0.2', 'c1', 'net1', 'r1', 'z1', { tlsMode: 'disabled', inboundPort: undefined }), ep('10.1.0.1', 'c2', 'net2', 'r2', 'z1')];
  const s = snap(eps, { gateways: [{ network: 'net2', region: 'r2', address: '192.0.2.2', port: 15443 }] });
  assert.deepEqual(addrs(eds(s, node({ role: 'sidecar' }))), [{ p: 0, a: '10.0.0.1:15006,10.0.0.2:9090' }, { p: 1, a: '192.0.2.2:15443' }]);
  const gwName = `outbound_.8080_._.${HOST}`;
  const gw = node({ role: 'gateway' });
  assert.deepEqual(addrs(eds(s, gw, gwName)), [{ p: 0, a: '10.0.0.1:15006' }]);
  assert.deepEqual([...translate(s, gw, TYPE_URL.cluster, [], true).resources.keys()], [gwName]);
  assert.equal(translate(s, gw, TYPE_URL.listener, [], true).resources.size, 0);
});

test('listener names: FQDN, name.ns and name.ns.svc are answered with the name asked; unknown ones are warned', () => {
  const s = snap([]);
  for (const name of [`${HOST}:8080`, 'echo.demo:8080', 'echo.demo.svc:8080']) {
    const l = translate(s, node(), TYPE_URL.listener, [name]).resources.get(name);
    assert.ok(l, name);
    const dec = unpackAny<{ name: string; api_listener: { api_listener: { type_url: string; value: Buffer } } }>(packAny(TYPE_URL.listener, l));
    assert.equal(dec.name, name);
    const hcm = unpackAny<{ rds: { route_config_name: string } }>(dec.api_listener.api_listener);
    assert.equal(hcm.rds.route_config_name, name);
    const rt = unpackAny<{ virtual_hosts: { routes: { route: { cluster: string } }[] }[] }>(packAny(TYPE_URL.route, translate(s, node(), TYPE_URL.route, [name]).resources.get(name)!));
    assert.equal(rt.virtual_hosts[0]!.routes[0]!.route.cluster, CL);
  }
  const bad = translate(s, node(), TYPE_URL.listener, ['nope.demo:8080', `${HOST}:9999`]);
  assert.equal(bad.resources.size, 0);
  assert.equal(bad.warnings.length, 2);
});

test('node role comes from MESHFED_ROLE, else GENERATOR=grpc (proxyless), else the Istio id prefix', () => {
  assert.equal(parseNode({ id: 'router~1.2.3.4~gw.ns~ns.svc.cluster.local' }).role, 'gateway');
  assert.equal(parseNode({ id: 'sidecar~1.2.3.4~p.ns~ns.svc.cluster.local' }).role, 'sidecar');
  assert.equal(parseNode({ id: 'x', metadata: { fields: { MESHFED_ROLE: { string_value: 'gateway' }, NETWORK: { string_value: 'n' } } } }).role, 'gateway');
  // istioctl's gRPC bootstrap: a sidecar~ id with GENERATOR grpc is a proxyless client (istiod's rule); MESHFED_ROLE still wins
  assert.equal(parseNode({ id: 'sidecar~10.1.0.5~client.demo~demo.svc.cluster.local', metadata: { fields: { GENERATOR: { stringValue: 'grpc' } } } }).role, 'proxyless');
  assert.equal(parseNode({ id: 'sidecar~10.1.0.5~client.demo~demo.svc.cluster.local', metadata: { fields: { GENERATOR: { string_value: 'grpc' }, MESHFED_ROLE: { string_value: 'sidecar' } } } }).role, 'sidecar');
  const n = parseNode({ id: 'x', locality: { region: 'r', zone: 'z', sub_zone: 's' }, metadata: { fields: { NETWORK: { string_value: 'n' } } } });
  assert.deepEqual([n.role, n.network, n.locality.subZone], ['proxyless', 'n', 's']);
});

test('node metadata LABELS (a Struct, as Istio proxies send it) become the node labels; other values are ignored', () => {
  const n = parseNode({ id: 'x', metadata: { fields: { LABELS: { struct_value: { fields: { app: { string_value: 'web' }, tier: { stringValue: 'gold' }, n: {} } } } } } });
  assert.deepEqual(n.labels, { app: 'web', tier: 'gold' });
  assert.equal(parseNode({ id: 'x' }).labels, undefined);
});
