// How soon the dashboard learns of a change: a proxy slow to answer does not hold the collector's round back; the
// collector hurries after a change; /feed pushes a state change on its event and a new edge after its round, without
// waiting for the figures' interval.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { TrafficCollector } from '../../src/admin/collector.ts';
import { changesGraph, graphShape } from '../../src/admin/feed.ts';
import type { GraphModel } from '../../src/admin/graphModel.ts';
import { startAdminServer } from '../../src/admin/server.ts';
import { fakeProxyText, MemorySources, startFakeProxy, type FakeFlow } from './fixtures.ts';

const flow = (srcWorkload: string, dstCluster: string): FakeFlow => ({ srcWorkload, srcCluster: 'east-1', srcRegion: 'us-east', dstService: 'reviews.bookinfo.svc.cluster.local', dstCluster, dstRegion: dstCluster.startsWith('west') ? 'us-west' : 'us-east', rps: 0 });

/** A metrics endpoint whose request count is set by the test, answering after `delayMs`; counts requests and answers. */
async function proxy(workload: string): Promise<{ url: string; requests: number; answered: number; total: number; delayMs: number; close(): Promise<void> }> {
  const p = {
    url: '', requests: 0, answered: 0, total: 0, delayMs: 0,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
  const server = http.createServer((_req, res) => {
    p.requests++;
    const body = fakeProxyText([{ ...flow(workload, 'east-1'), rps: p.total }], 1);
    setTimeout(() => { p.answered++; res.end(body); }, p.delayMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  p.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/stats/prometheus`;
  return p;
}

const requestsOf = (c: TrafficCollector, workload: string): number =>
  [...c.window().flows.values()].filter((f) => f.key.srcWorkload === workload).reduce((n, f) => n + f.requests, 0);

test('a proxy slow to answer does not hold the round back: its answer counts in the next round, and it is not asked twice meanwhile', async () => {
  const fast = await proxy('fast');
  const slow = await proxy('slow');
  const c = new TrafficCollector(() => [{ name: 'fast', url: fast.url }, { name: 'slow', url: slow.url }], { waitMs: 100, timeoutMs: 5000 });
  try {
    await c.fresh(-1); // baselines
    fast.total = 5;
    slow.total = 7;
    slow.delayMs = 600;
    await c.fresh(-1);
    assert.equal(slow.answered, 1, 'the round ended before the slow proxy answered');
    assert.equal(requestsOf(c, 'fast'), 5, "the fast proxy's figures are there at once");
    assert.equal(requestsOf(c, 'slow'), 0);
    await c.fresh(-1);
    assert.equal(slow.requests, 2, 'not asked again while its request is open');
    while (slow.answered < 2) await new Promise((r) => setTimeout(r, 20));
    // the proxy has sent its answer; wait until the collector has read it too (on a busy machine that can take longer
    // than the next round's start, and the answer would then count one round later than this test looks)
    const open = (c as unknown as { open: Set<string> }).open;
    for (let i = 0; i < 250 && open.has(slow.url); i++) await new Promise((r) => setTimeout(r, 20));
    slow.delayMs = 0;
    await c.fresh(-1);
    assert.equal(requestsOf(c, 'slow'), 7, 'its late answer counts in the next round');
    assert.equal(slow.requests, 3);
    assert.equal(c.stats.errors.length, 0);
  } finally {
    c.close();
    await fast.close();
    await slow.close();
  }
});

test('the collector hurries (rounds every 0.25 s for 5 s) after hurry(), when proxies come or go, and when one stops answering — once', async () => {
  const a = await proxy('a');
  const b = await proxy('b');
  let targets = [{ name: 'a', url: a.url }, { name: 'b', url: b.url }];
  const c = new TrafficCollector(() => targets, {});
  /** did this step hurry the rounds (again)? */
  const hurries = async (step: () => Promise<unknown>): Promise<boolean> => {
    const before = c.hurriedUntil;
    await new Promise((r) => setTimeout(r, 5));
    await step();
    return c.hurriedUntil > before;
  };
  try {
    assert.equal(await hurries(() => c.fresh(-1)), false, 'the first round');
    assert.equal(c.periodMs(), 1000);
    c.hurry();
    assert.equal(c.periodMs(), 250);
    assert.equal(c.periodMs(2, Date.now() + 5100), 1000, 'for 5 s');
    assert.equal(await hurries(() => c.fresh(-1)), false, 'the same proxies answering');
    targets = [{ name: 'a', url: a.url }];
    assert.equal(await hurries(() => c.fresh(-1)), true, 'a proxy went away');
    targets = [{ name: 'a', url: a.url }, { name: 'b', url: b.url }];
    assert.equal(await hurries(() => c.fresh(-1)), true, 'a proxy came');
    await b.close();
    assert.equal(await hurries(() => c.fresh(-1)), true, 'a proxy stopped answering');
    assert.equal(c.stats.errors.length, 1);
    assert.equal(await hurries(() => c.fresh(-1)), false, 'one that still does not answer hurries nothing');
    assert.equal(c.stats.errors.length, 1);
  } finally {
    c.close();
    await a.close();
    await b.close();
  }
});

test('what changes the graph at once: edges present, node states, regions failing over — not the figures', () => {
  const g = (rps: number, state: 'connected' | 'unreachable', edge = 'a->b'): Pick<GraphModel, 'nodes' | 'edges' | 'failover'> => ({
    nodes: [{ id: 'cluster/east-1', kind: 'cluster', label: 'east-1', state, detail: '', region: 'us-east' }],
    edges: [{ id: edge, kind: 'traffic', source: 'a', target: 'b', rps, errorRps: 0, errorShare: 0, health: 'healthy', flows: 1 }],
    failover: [],
  });
  assert.equal(graphShape(g(1, 'connected')), graphShape(g(9, 'connected')));
  assert.notEqual(graphShape(g(1, 'connected')), graphShape(g(1, 'unreachable')));
  assert.notEqual(graphShape(g(1, 'connected')), graphShape(g(1, 'connected', 'a->gw')));
  for (const k of ['cluster.unreachable', 'failover.started', 'proxy.disconnected', 'endpoint.health', 'service.added'] as const) assert.ok(changesGraph({ kind: k }), k);
  for (const k of ['push.done', 'proxy.nack', 'leader.changed', 'ca.rotated'] as const) assert.ok(!changesGraph({ kind: k }), k);
});

interface Feed { graphs: GraphModel[]; next(pred: (g: GraphModel) => boolean): Promise<GraphModel>; close(): void }
async function feed(url: string): Promise<Feed> {
  const ws = new WebSocket(url.replace('http', 'ws') + '/feed');
  const graphs: GraphModel[] = [];
  const waiting: { pred: (g: GraphModel) => boolean; resolve: (g: GraphModel) => void }[] = [];
  ws.on('message', (d) => {
    const g = (JSON.parse(String(d)) as { graph: GraphModel }).graph;
    graphs.push(g);
    for (const w of [...waiting]) if (w.pred(g)) { waiting.splice(waiting.indexOf(w), 1); w.resolve(g); }
  });
  await new Promise((r) => ws.once('message', r));
  return { graphs, next: (pred) => new Promise((resolve) => waiting.push({ pred, resolve })), close: () => ws.close() };
}

test('/feed pushes a region going down on its events, coalesced, without waiting for a round or the figures interval', { timeout: 30_000 }, async () => {
  const src = new MemorySources();
  // no proxies to scrape and figures every 60 s: the beat is 60 s, whatever arrives sooner came with an event
  const admin = await startAdminServer(src, { port: 0, feedIntervalMs: 60_000 });
  const f = await feed(admin.url);
  try {
    src.regionDown('us-east'); // two cluster.unreachable events and failover.started
    const down = await f.next((x) => x.nodes.find((n) => n.id === 'cluster/east-1')?.state === 'unreachable');
    assert.deepEqual(down.failover, [{ region: 'us-east', to: 'us-west' }]);
    assert.equal(down.nodes.find((n) => n.id === 'gateway/net-east')?.state, 'unreachable');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(f.graphs.length, 2, 'the first graph, then one push for the three events');
  } finally {
    f.close();
    await admin.close();
  }
});

test('/feed pushes a new edge right after the round that saw it, not at the figures interval', { timeout: 30_000 }, async () => {
  const src = new MemorySources();
  const p = await startFakeProxy([{ ...flow('ratings', 'east-1'), rps: 5 }]);
  src.targets = [{ name: 'east-1/ratings', url: p.url }];
  const admin = await startAdminServer(src, { port: 0, feedIntervalMs: 60_000 });
  const f = await feed(admin.url);
  try {
    await f.next((g) => g.edges.some((e) => e.id === 'workload/east-1/ratings->service/east-1/bookinfo/reviews'));
    p.flows = [...p.flows, { ...flow('ratings', 'west-1'), rps: 5 }];
    const g = await f.next((x) => x.edges.some((e) => e.id === 'workload/east-1/ratings->gateway/net-west'));
    assert.ok(g.edges.some((e) => e.id === 'gateway/net-west->service/west-1/bookinfo/reviews'));
  } finally {
    f.close();
    await admin.close();
    await p.close();
  }
});
