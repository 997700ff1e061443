import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { emptySnapshot, type Endpoint, type MeshService, type MeshSnapshot } from '../../src/mesh/types.ts';
import { newRegistry } from '../../src/observe/metrics.ts';
import { EventBus } from '../../src/observe/events.ts';
import { Pilot } from '../../src/pilot/server.ts';
import { AdsClient } from '../helpers/rawAdsClient.ts';
import { TYPE_URL, unpackAny } from '../../src/xds/protos.ts';

function ep(address: string): Endpoint {
  return { cluster: 'c1', network: 'net1', locality: { region: 'r1', zone: 'z1', subZone: '' }, address, ports: { http: 9090 }, ready: true, tlsMode: 'istio', inboundPort: 15006, labels: {} };
}
function svc(name: string, eps: Endpoint[]): MeshService {
  return { namespace: 'demo', name, hostname: `${name}.demo.svc.cluster.local`, ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], clusters: ['c1'], endpoints: eps, conflicts: [] };
}
function snap(version: number, echo: Endpoint[], other: Endpoint[]): MeshSnapshot {
  return emptySnapshot({ version, services: new Map([['demo/echo', svc('echo', echo)], ['demo/other', svc('other', other)]]) });
}

const ECHO = 'outbound|8080||echo.demo.svc.cluster.local';
const OTHER = 'outbound|8080||other.demo.svc.cluster.local';
const node = (id: string, role = 'proxyless') => ({ id, locality: { region: 'r1', zone: 'z1' }, metadata: { NETWORK: 'net1', CLUSTER_ID: 'c1', MESHFED_ROLE: role } });

let pilot: Pilot;
let addr: string;
const registry = newRegistry();
const events = new EventBus();
const clients: AdsClient[] = [];
const client = (id: string, role?: string) => {
  const c = new AdsClient(addr, node(id, role));
  clients.push(c);
  return c;
};

before(async () => {
  pilot = new Pilot({ port: 0, host: '127.0.0.1', registry, events, debounceMs: 5, maxDelayMs: 50 });
  await pilot.start();
  addr = `127.0.0.1:${pilot.port}`;
  pilot.setSnapshot(snap(1, [ep('10.0.0.1')], [ep('10.0.1.1')]));
  await sleep(20);
});
after(async () => {
  for (const c of clients) c.close();
  await pilot.stop();
});

test('explicit subscription: response carries version and nonce; an ACK is recorded and not answered', async () => {
  const c = client('p1');
  c.send(TYPE_URL.listener, ['echo.demo:8080']);
  const r = await c.next(10_000); // the first response also loads the Envoy protos: slow on a loaded machine
  assert.equal(r.type_url, TYPE_URL.listener);
  assert.equal(r.resources.length, 1);
  assert.equal(unpackAny<{ name: string }>(r.resources[0]!).name, 'echo.demo:8080');
  assert.ok(r.version_info && r.nonce);
  c.send(TYPE_URL.listener, ['echo.demo:8080'], { version: r.version_info, nonce: r.nonce });
  await sleep(100);
  assert.equal(c.pending(), 0);
  const st = pilot.syncStatus().find((p) => p.nodeId === 'p1')!;
  assert.equal(st.role, 'proxyless');
  assert.equal(st.types[TYPE_URL.listener]!.versionAcked, r.version_info);
});

test('NACK keeps the last good version, is counted and published', async () => {
  const c = client('p2');
  c.send(TYPE_URL.cluster, [ECHO]);
  const r1 = await c.next();
  c.send(TYPE_URL.cluster, [ECHO], { version: r1.version_info, nonce: r1.nonce });
  c.send(TYPE_URL.cluster, [ECHO, OTHER], { version: r1.version_info, nonce: r1.nonce });
  const r2 = await c.next();
  assert.equal(r2.resources.length, 2);
  const seen: string[] = [];
  const off = events.subscribe((e) => seen.push(e.kind));
  c.send(TYPE_URL.cluster, [ECHO, OTHER], { version: r1.version_info, nonce: r2.nonce, error: 'bad cluster' });
  await sleep(100);
  off();
  const st = pilot.syncStatus().find((p) => p.nodeId === 'p2')!.types[TYPE_URL.cluster]!;
  assert.equal(st.versionAcked, r1.version_info);
  assert.equal(st.lastNack?.message, 'bad cluster');
  assert.ok(seen.includes('proxy.nack'));
  assert.match(await registry.metrics(), /meshfed_pilot_nacks_total\{type="[^"]*Cluster"\} 1/);
});

test('unsubscribing removes the resource from the next response', async () => {
  const c = client('p3');
  c.send(TYPE_URL.endpoint, [ECHO, OTHER]);
  const r1 = await c.next();
  assert.equal(r1.resources.length, 2);
  c.send(TYPE_URL.endpoint, [OTHER], { version: r1.version_info, nonce: r1.nonce });
  const r2 = await c.next();
  assert.deepEqual(r2.resources.map((r) => unpackAny<{ cluster_name: string }>(r).cluster_name), [OTHER]);
});

test('wildcard CDS for a sidecar (empty names) returns every cluster; proxyless gets none', async () => {
  const sc = client('sidecar~10.0.0.9~x.demo~demo.svc.cluster.local', 'sidecar');
  sc.send(TYPE_URL.cluster, []);
  const r = await sc.next();
  assert.deepEqual(r.resources.map((a) => unpackAny<{ name: string }>(a).name).sort(), [ECHO, OTHER]);
  const pl = client('p4');
  pl.send(TYPE_URL.cluster, []);
  assert.equal((await pl.next()).resources.length, 0);
});

test('a snapshot change is pushed only to streams whose resources changed', async () => {
  const a = client('pa');
  const b = client('pb');
  a.send(TYPE_URL.endpoint, [ECHO]);
  b.send(TYPE_URL.endpoint, [OTHER]);
  const ra = await a.next();
  const rb = await b.next();
  a.send(TYPE_URL.endpoint, [ECHO], { version: ra.version_info, nonce: ra.nonce });
  b.send(TYPE_URL.endpoint, [OTHER], { version: rb.version_info, nonce: rb.nonce });
  await sleep(30);
  pilot.setSnapshot(snap(2, [ep('10.0.0.1'), ep('10.0.0.2')], [ep('10.0.1.1')]));
  const pa = await a.next();
  assert.notEqual(pa.version_info, ra.version_info);
  const cla = unpackAny<{ endpoints: { lb_endpoints: unknown[] }[] }>(pa.resources[0]!);
  assert.equal(cla.endpoints[0]!.lb_endpoints.length, 2);
  await sleep(100);
  assert.equal(b.pending(), 0);
});

test('an EDS update carries only the changed ClusterLoadAssignment', async () => {
  const c = client('pinc');
  c.send(TYPE_URL.endpoint, [ECHO, OTHER]);
  const r1 = await c.next();
  c.send(TYPE_URL.endpoint, [ECHO, OTHER], { version: r1.version_info, nonce: r1.nonce });
  await sleep(30);
  pilot.setSnapshot(snap(3, [ep('10.0.0.1'), ep('10.0.0.2'), ep('10.0.0.3')], [ep('10.0.1.1')]));
  const r2 = await c.next();
  assert.deepEqual(r2.resources.map((r) => unpackAny<{ cluster_name: string }>(r).cluster_name), [ECHO]);
  assert.equal(pilot.configDump('pinc')?.[TYPE_URL.endpoint]?.length, 2);
});

test('the node metadata (network, cluster) sent by the ADS client reaches pilot', async () => {
  const c = client('pmeta');
  c.send(TYPE_URL.cluster, []);
  await c.next();
  const st = pilot.syncStatus().find((p) => p.nodeId === 'pmeta')!;
  assert.deepEqual([st.network, st.cluster, st.locality.zone], ['net1', 'c1', 'z1']);
});

test('a gateway change reaches streams even when the services are the same objects', async () => {
  const echo = svc('echo', [ep('10.0.0.1'), { ...ep('10.9.0.1'), network: 'net9' }]);
  const base = emptySnapshot({ version: 10, services: new Map([['demo/echo', echo]]) });
  pilot.setSnapshot(base);
  await sleep(30);
  const c = client('pgw');
  c.send(TYPE_URL.endpoint, [ECHO]);
  const r1 = await c.next();
  const count = (r: typeof r1) => unpackAny<{ endpoints: { lb_endpoints: unknown[] }[] }>(r.resources[0]!).endpoints.reduce((n, l) => n + l.lb_endpoints.length, 0);
  assert.equal(count(r1), 1); // the net9 endpoint is dropped: no gateway yet
  c.send(TYPE_URL.endpoint, [ECHO], { version: r1.version_info, nonce: r1.nonce });
  pilot.setSnapshot({ ...base, version: 11, gateways: [{ network: 'net9', region: 'r9', address: '192.0.2.9', port: 15443 }] });
  assert.equal(count(await c.next()), 2);
});

test('a first request without node.id is refused with INVALID_ARGUMENT naming the field', async () => {
  const c = client('');
  c.send(TYPE_URL.cluster, [ECHO]);
  await assert.rejects(c.next(10_000), (e: Error) => /INVALID_ARGUMENT/.test(e.message) && /node\.id/.test(e.message));
});

test('a client resuming on another replica with its last versions and nonces is not resent what it has; the next change arrives', async () => {
  // two replicas serving the same mesh (versions are content hashes: equal on both)
  const mesh = snap(20, [ep('10.0.0.1')], [ep('10.0.1.1')]);
  const replicas = [new Pilot({ port: 0, host: '127.0.0.1', debounceMs: 5 }), new Pilot({ port: 0, host: '127.0.0.1', debounceMs: 5 })];
  try {
    for (const p of replicas) {
      p.setSnapshot(mesh);
      await p.start();
    }
    const first = new AdsClient(`127.0.0.1:${replicas[0]!.port}`, node('resumer'));
    first.send(TYPE_URL.cluster, [ECHO, OTHER]);
    const cds = await first.next(10_000);
    first.send(TYPE_URL.cluster, [ECHO, OTHER], { version: cds.version_info, nonce: cds.nonce });
    first.send(TYPE_URL.endpoint, [ECHO, OTHER]);
    const eds = await first.next(10_000);
    first.send(TYPE_URL.endpoint, [ECHO, OTHER], { version: eds.version_info, nonce: eds.nonce });
    first.close(); // replica 0 goes away for this client

    const again = new AdsClient(`127.0.0.1:${replicas[1]!.port}`, node('resumer'));
    clients.push(again);
    again.send(TYPE_URL.cluster, [ECHO, OTHER], { version: cds.version_info, nonce: cds.nonce });
    again.send(TYPE_URL.endpoint, [ECHO, OTHER], { version: eds.version_info, nonce: eds.nonce });
    // a new subscription on the same stream: its answer comes after any answer to the requests before it
    again.send(TYPE_URL.listener, ['echo.demo:8080']);
    const next = await again.next(10_000);
    assert.equal(next.type_url, TYPE_URL.listener, 'CDS/EDS were resent although nothing changed');
    const st = replicas[1]!.syncStatus().find((p) => p.nodeId === 'resumer')!.types;
    assert.equal(st[TYPE_URL.endpoint]!.versionAcked, eds.version_info);
    // a change after the resume: only the changed ClusterLoadAssignment
    replicas[1]!.setSnapshot(snap(21, [ep('10.0.0.1'), ep('10.0.0.2')], [ep('10.0.1.1')]));
    const upd = await again.next(10_000);
    assert.equal(upd.type_url, TYPE_URL.endpoint);
    assert.deepEqual(upd.resources.map((r) => unpackAny<{ cluster_name: string }>(r).cluster_name), [ECHO]);
  } finally {
    for (const p of replicas) await p.stop();
  }
});
