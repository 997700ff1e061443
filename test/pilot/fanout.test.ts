// Pilot end to end over gRPC: one snapshot change fans out to many streams once, and the cache follows the mesh.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { emptySnapshot, type Endpoint, type MeshService, type MeshSnapshot } from '../../src/mesh/types.ts';
import { Pilot } from '../../src/pilot/server.ts';
import { AdsClient } from '../helpers/rawAdsClient.ts';
import { TYPE_URL, unpackAny } from '../../src/xds/protos.ts';

function ep(address: string): Endpoint {
  return { cluster: 'c1', network: 'net1', locality: { region: 'r1', zone: 'z1', subZone: '' }, address, ports: { http: 9090 }, ready: true, tlsMode: 'disabled', labels: {} };
}
function svc(name: string, addrs: string[]): MeshService {
  return { namespace: 'demo', name, hostname: `${name}.demo.svc.cluster.local`, ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], clusters: ['c1'], endpoints: addrs.map(ep), conflicts: [] };
}
const snap = (version: number, svcs: MeshService[]): MeshSnapshot => emptySnapshot({ version, services: new Map(svcs.map((s) => [`demo/${s.name}`, s])) });
const cla = (n: string) => `outbound|8080||${n}.demo.svc.cluster.local`;
const NAMES = ['a', 'b', 'c', 'd'].map(cla);
const node = (id: string) => ({ id, locality: { region: 'r1', zone: 'z1' }, metadata: { NETWORK: 'net1', CLUSTER_ID: 'c1' } });

let pilot: Pilot;
const clients: AdsClient[] = [];
before(async () => {
  pilot = new Pilot({ port: 0, host: '127.0.0.1', debounceMs: 2, maxDelayMs: 20 });
  await pilot.start();
});
after(async () => {
  for (const c of clients) c.close();
  await pilot.stop();
});

async function subscribe(id: string): Promise<AdsClient> {
  const c = new AdsClient(`127.0.0.1:${pilot.port}`, node(id));
  clients.push(c);
  c.send(TYPE_URL.endpoint, NAMES);
  const r = await c.next(10000);
  c.send(TYPE_URL.endpoint, NAMES, { version: r.version_info, nonce: r.nonce });
  return c;
}

test('one change reaches every stream once, with only the changed resource, and removed services leave the cache', async () => {
  const a = svc('a', ['10.0.0.1']), b = svc('b', ['10.0.0.2']), c = svc('c', ['10.0.0.3']), d = svc('d', ['10.0.0.4']);
  pilot.setSnapshot(snap(1, [a, b, c, d]));
  const streams = [await subscribe('x1'), await subscribe('x2'), await subscribe('x3')];
  assert.equal(pilot.cacheSize(), 4, 'one entry per resource for the one node class the three streams share');

  // replace b only (a, c, d are the same objects): each stream gets one EDS response holding just b
  pilot.setSnapshot(snap(2, [a, svc('b', ['10.0.0.9']), c, d]));
  const got = await Promise.all(streams.map((s) => s.next(10000)));
  for (const r of got) {
    assert.deepEqual(r.resources.map((x) => unpackAny<{ cluster_name: string }>(x).cluster_name), [cla('b')]);
    assert.equal(r.version_info, got[0]!.version_info, 'streams of one class share the version');
  }
  for (const [i, s] of streams.entries()) s.send(TYPE_URL.endpoint, NAMES, { version: got[i]!.version_info, nonce: got[i]!.nonce });

  // remove c and d: the cache drops their entries (it used to keep them until gateways/failover changed)
  const b2 = svc('b', ['10.0.0.9']);
  pilot.setSnapshot(snap(3, [a, b2]));
  for (const s of streams) await s.next(10000);
  assert.equal(pilot.cacheSize(), 2);
  assert.deepEqual(pilot.syncStatus().map((p) => p.types[TYPE_URL.endpoint]!.versionSent).filter((v, i, all) => all.indexOf(v) === i).length, 1);

  // every proxy of that class gone: the next flush drops the class's entries
  for (const s of streams) s.close();
  const end = Date.now() + 10_000;
  while (pilot.connectedStreams() > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  assert.equal(pilot.connectedStreams(), 0);
  pilot.setSnapshot(snap(4, [a, b2, svc('e', ['10.0.0.5'])]));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(pilot.cacheSize(), 0);
});
