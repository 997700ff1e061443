// The ADS protocol server alone, against a fake cache and fake streams: no gRPC server, no translation. What a
// proxy would notice: which requests get a response, with what, and what pilot records about it.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { AdsServer, type AdsCache, type AdsCall, type DiscoveryRequest, type Resolved } from '../../src/pilot/ads.ts';
import type { PilotMetrics } from '../../src/pilot/metrics.ts';
import type { ProxyNode, RawNode } from '../../src/pilot/node.ts';
import { EventBus } from '../../src/observe/events.ts';
import { messageType, TYPE_URL } from '../../src/xds/protos.ts';

interface Response { version_info: string; nonce: string; type_url: string; resources: { name: string; payload: string }[] }

/** A cache whose content the test sets: type → name → payload (the payload is also the hash). */
class FakeCache implements AdsCache {
  readonly content = new Map<string, Map<string, string>>();
  readonly calls: { node: string; type: string; names: readonly string[]; wildcard: boolean }[] = [];
  batches = 0;
  set(type: string, name: string, payload: string | undefined): void {
    const m = this.content.get(type) ?? new Map<string, string>();
    if (payload === undefined) m.delete(name);
    else m.set(name, payload);
    this.content.set(type, m);
  }
  resolve(node: ProxyNode, type: string, names: readonly string[], wildcard: boolean): Resolved {
    this.calls.push({ node: node.id, type, names, wildcard });
    const all = this.content.get(type) ?? new Map<string, string>();
    const wanted = wildcard ? [...all.keys()].sort() : names;
    const resources = wanted.filter((n) => all.has(n)).map((name) => ({ name, hash: all.get(name)!, any: { type_url: type, value: Buffer.from(`${name}=${all.get(name)}`) } }));
    return { resources, version: `v:${resources.map((r) => `${r.name}=${r.hash}`).join(',')}` };
  }
  batch<T>(fn: () => T): T {
    this.batches++;
    return fn();
  }
}

const responseType = () => messageType('envoy.service.discovery.v3.DiscoveryResponse');

/** The server side of one stream, as grpc-js would hand it over; records what pilot writes. */
class FakeCall extends EventEmitter {
  readonly written: Response[] = [];
  status: { code: number; details: string } | undefined;
  ended = false;
  constructor() {
    super();
    this.on('error', (e: { code: number; details: string }) => (this.status = e));
  }
  write(b: Buffer): boolean {
    const d = responseType().toObject(responseType().decode(b), { defaults: true }) as { version_info: string; nonce: string; type_url: string; resources: { value: Uint8Array }[] };
    const resources = d.resources.map((r) => {
      const [name, payload] = Buffer.from(r.value).toString().split('=') as [string, string];
      return { name, payload };
    });
    this.written.push({ version_info: d.version_info, nonce: d.nonce, type_url: d.type_url, resources });
    return true;
  }
  end(): void {
    this.ended = true;
  }
  getPeer(): string {
    return 'fake:1';
  }
  send(r: DiscoveryRequest): void {
    this.emit('data', r);
  }
  /** responses written since the last take() */
  take(): Response[] {
    return this.written.splice(0);
  }
}

const EDS = TYPE_URL.endpoint;
const CDS = TYPE_URL.cluster;
const LDS = TYPE_URL.listener;
const RDS = TYPE_URL.route;

function rawNode(id: string, meta: Record<string, string> = {}): RawNode {
  return { id, locality: { region: 'r1', zone: 'z1' }, metadata: { fields: Object.fromEntries(Object.entries({ NETWORK: 'net1', CLUSTER_ID: 'c1', ...meta }).map(([k, v]) => [k, { string_value: v }])) } };
}

function setup(): { ads: AdsServer; cache: FakeCache; metrics: Record<string, string[]>; events: EventBus; open: (id: string, meta?: Record<string, string>) => FakeCall } {
  const cache = new FakeCache();
  const metrics: Record<string, string[]> = { pushed: [], nacked: [], opened: [], closed: [] };
  const m: PilotMetrics = { streamOpened: () => metrics.opened!.push(''), streamClosed: () => metrics.closed!.push(''), pushed: (t) => metrics.pushed!.push(t), nacked: (t) => metrics.nacked!.push(t), flushed: () => {} };
  const events = new EventBus();
  const ads = new AdsServer({ cache, metrics: m, events });
  let first = true;
  const open = (id: string, meta: Record<string, string> = {}): FakeCall => {
    const call = new FakeCall();
    ads.accept(call as unknown as AdsCall);
    // the node rides on the first request only (as Envoy and grpc-js-xds send it)
    const orig = call.send.bind(call);
    first = true;
    call.send = (r) => {
      orig(first ? { node: rawNode(id, meta), ...r } : r);
      first = false;
    };
    return call;
  };
  return { ads, cache, metrics, events, open };
}

test('a subscription is answered with the content, a version and a nonce; its ACK is recorded and not answered', () => {
  const { ads, cache, metrics, open } = setup();
  cache.set(EDS, 'a', '1');
  cache.set(EDS, 'b', '1');
  const c = open('p1');
  c.send({ type_url: EDS, resource_names: ['a'] });
  const [r] = c.take();
  assert.deepEqual(r!.resources, [{ name: 'a', payload: '1' }]);
  assert.ok(r!.version_info && r!.nonce);
  c.send({ type_url: EDS, resource_names: ['a'], version_info: r!.version_info, response_nonce: r!.nonce });
  assert.deepEqual(c.take(), []);
  const st = ads.syncStatus()[0]!;
  assert.equal(st.nodeId, 'p1');
  assert.deepEqual(st.types[EDS], { names: ['a'], wildcard: false, versionSent: r!.version_info, versionAcked: r!.version_info, lastNonce: r!.nonce });
  assert.deepEqual(metrics.pushed, [EDS]);
  // names change: the new set is sent; the same names again: nothing
  c.send({ type_url: EDS, resource_names: ['b', 'a'], version_info: r!.version_info, response_nonce: r!.nonce });
  const [r2] = c.take();
  assert.deepEqual(r2!.resources.map((x) => x.name), ['a', 'b']);
  c.send({ type_url: EDS, resource_names: ['a', 'b'], version_info: r2!.version_info, response_nonce: r2!.nonce });
  assert.deepEqual(c.take(), []);
});

test('a NACK keeps the acknowledged version and is recorded, counted and published', () => {
  const { ads, cache, metrics, events, open } = setup();
  cache.set(CDS, 'a', '1');
  const c = open('p2');
  c.send({ type_url: CDS, resource_names: ['a'] });
  const [r1] = c.take();
  c.send({ type_url: CDS, resource_names: ['a'], version_info: r1!.version_info, response_nonce: r1!.nonce });
  cache.set(CDS, 'a', '2');
  ads.pushChanged();
  const [r2] = c.take();
  const seen: string[] = [];
  events.subscribe((e) => seen.push(`${e.kind} ${e.message}`));
  c.send({ type_url: CDS, resource_names: ['a'], version_info: r1!.version_info, response_nonce: r2!.nonce, error_detail: { code: 3, message: 'bad cluster' } });
  assert.deepEqual(c.take(), []);
  const st = ads.syncStatus()[0]!.types[CDS]!;
  assert.equal(st.versionAcked, r1!.version_info);
  assert.equal(st.versionSent, r2!.version_info);
  assert.equal(st.lastNack?.message, 'bad cluster');
  assert.equal(st.lastNack?.nonce, r2!.nonce);
  assert.deepEqual(metrics.nacked, [CDS]);
  assert.deepEqual(seen, [`proxy.nack p2 rejected ${CDS}: bad cluster`]);
});

test('a request answering an older response of the stream (stale nonce) is ignored', () => {
  const { ads, cache, open } = setup();
  cache.set(EDS, 'a', '1');
  cache.set(EDS, 'b', '1');
  const c = open('p3');
  c.send({ type_url: EDS, resource_names: ['a'] });
  const [r1] = c.take();
  c.send({ type_url: EDS, resource_names: ['a', 'b'], version_info: r1!.version_info, response_nonce: r1!.nonce });
  const [r2] = c.take();
  assert.notEqual(r2!.nonce, r1!.nonce);
  // crossing on the wire: a request still answering r1, asking for less — ignored, the subscription stands
  c.send({ type_url: EDS, resource_names: ['a'], version_info: r1!.version_info, response_nonce: r1!.nonce });
  assert.deepEqual(c.take(), []);
  assert.deepEqual(ads.syncStatus()[0]!.types[EDS]!.names, ['a', 'b']);
  assert.equal(ads.syncStatus()[0]!.types[EDS]!.versionAcked, r1!.version_info, 'acknowledged r1 when asking for more, not r2');
});

test('empty names are a wildcard for Envoy-style clients on CDS and LDS only; proxyless clients get what they name', () => {
  const { cache, open } = setup();
  cache.set(CDS, 'a', '1');
  cache.set(CDS, 'b', '1');
  cache.set(EDS, 'a', '1');
  const sc = open('sidecar~10.0.0.9~x.demo~demo.svc.cluster.local');
  sc.send({ type_url: CDS, resource_names: [] });
  assert.deepEqual(sc.take()[0]!.resources.map((r) => r.name), ['a', 'b']);
  sc.send({ type_url: EDS, resource_names: [] });
  assert.deepEqual(sc.take()[0]!.resources, []);
  const pl = open('p4', { MESHFED_ROLE: 'proxyless' });
  pl.send({ type_url: CDS, resource_names: [] });
  assert.deepEqual(pl.take()[0]!.resources, []);
  assert.deepEqual(cache.calls.map((x) => [x.type, x.wildcard]), [[CDS, true], [EDS, false], [CDS, false]]);
});

test('a push round: only streams whose content changed get a response, CDS before EDS before LDS before RDS, EDS with only what changed', () => {
  const { ads, cache, open } = setup();
  for (const t of [CDS, EDS, LDS, RDS]) {
    cache.set(t, 'a', '1');
    cache.set(t, 'b', '1');
  }
  const x = open('x');
  const y = open('y');
  for (const t of [RDS, LDS, EDS, CDS]) x.send({ type_url: t, resource_names: ['a', 'b'] });
  y.send({ type_url: EDS, resource_names: ['b'] });
  for (const r of x.take()) x.send({ type_url: r.type_url, resource_names: ['a', 'b'], version_info: r.version_info, response_nonce: r.nonce });
  y.take();
  const batches = cache.batches;
  for (const t of [CDS, EDS, LDS, RDS]) cache.set(t, 'a', '2');
  assert.equal(ads.pushChanged(), 4);
  assert.equal(cache.batches, batches + 1, 'one batch for the round');
  const got = x.take();
  assert.deepEqual(got.map((r) => r.type_url), [CDS, EDS, LDS, RDS]);
  assert.deepEqual(got.map((r) => r.resources.map((res) => `${res.name}=${res.payload}`).join(' ')), ['a=2 b=1', 'a=2', 'a=2 b=1', 'a=2']);
  assert.deepEqual(y.take(), [], 'y holds b only, which did not change');
  assert.equal(ads.pushChanged(), 0, 'nothing changed since');
});

test('resume: a first request whose version matches what the node would get is not answered; the next change sends only what changed', () => {
  // one replica served the client and died; the client opens a stream to another replica with its last
  // version and nonce per type (the nonce means nothing here)
  const { ads, cache, open } = setup();
  cache.set(EDS, 'a', '1');
  cache.set(EDS, 'b', '1');
  cache.set(CDS, 'a', '1');
  const before = open('p5');
  before.send({ type_url: CDS, resource_names: ['a'] });
  before.send({ type_url: EDS, resource_names: ['a', 'b'] });
  const [cds, eds] = before.take();
  before.emit('close');

  const other = setup();
  for (const [t, m] of cache.content) for (const [n, p] of m) other.cache.set(t, n, p);
  const c = other.open('p5');
  c.send({ type_url: CDS, resource_names: ['a'], version_info: cds!.version_info, response_nonce: cds!.nonce });
  c.send({ type_url: EDS, resource_names: ['a', 'b'], version_info: eds!.version_info, response_nonce: eds!.nonce });
  assert.deepEqual(c.take(), [], 'nothing changed: nothing resent');
  const st = other.ads.syncStatus()[0]!.types;
  assert.equal(st[EDS]!.versionAcked, eds!.version_info);
  assert.equal(other.ads.configDump('p5')![EDS]!.length, 2, 'pilot knows what the node holds');
  other.cache.set(EDS, 'b', '2');
  other.ads.pushChanged();
  const [u] = c.take();
  assert.deepEqual(u!.resources, [{ name: 'b', payload: '2' }]);
  // the client acknowledges the new replica's nonce like any other
  c.send({ type_url: EDS, resource_names: ['a', 'b'], version_info: u!.version_info, response_nonce: u!.nonce });
  assert.equal(other.ads.syncStatus()[0]!.types[EDS]!.versionAcked, u!.version_info);
  assert.deepEqual(c.take(), []);
  assert.equal(ads.connectedStreams(), 0, 'the first replica let the closed stream go');
});

test('resume with an outdated version, or with a nonce but no version, gets the full state', () => {
  const { cache, open } = setup();
  cache.set(EDS, 'a', '2');
  cache.set(EDS, 'b', '1');
  const c = open('p6');
  c.send({ type_url: EDS, resource_names: ['a', 'b'], version_info: 'v:a=1,b=1', response_nonce: 'other-replica-7' });
  assert.deepEqual(c.take()[0]!.resources.map((r) => `${r.name}=${r.payload}`), ['a=2', 'b=1']);
  const d = open('p7');
  d.send({ type_url: EDS, resource_names: ['a'], response_nonce: 'other-replica-9' });
  assert.deepEqual(d.take()[0]!.resources.map((r) => r.name), ['a']);
});

test('the first request without node.id ends the stream with INVALID_ARGUMENT naming the field', () => {
  const { ads, cache } = setup();
  cache.set(EDS, 'a', '1');
  const c = new FakeCall();
  ads.accept(c as unknown as AdsCall);
  assert.equal(ads.connectedStreams(), 1);
  c.send({ type_url: EDS, resource_names: ['a'], node: { locality: { region: 'r1' } } });
  assert.deepEqual(c.written, []);
  assert.equal(c.status?.code, 3);
  assert.match(c.status!.details, /node\.id/);
  assert.equal(ads.connectedStreams(), 0);
});

test('an Istio gRPC bootstrap (sidecar~ node id, metadata GENERATOR=grpc) is served as a proxyless client', () => {
  const { ads, cache, open } = setup();
  cache.set(CDS, 'a', '1');
  const c = open('sidecar~10.1.0.5~client-7d9.demo~demo.svc.cluster.local', { GENERATOR: 'grpc' });
  c.send({ type_url: CDS, resource_names: [] });
  assert.deepEqual(c.take()[0]!.resources, [], 'no wildcard for a gRPC client');
  assert.equal(ads.syncStatus()[0]!.role, 'proxyless');
});
