import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { startAdminServer, type AdminServer } from '../../src/admin/server.ts';
import { parsePrometheusText } from '../../src/admin/promtext.ts';
import { MemorySources } from './fixtures.ts';

let src: MemorySources;
let admin: AdminServer;
let proxyMetrics: http.Server;
before(async () => {
  src = new MemorySources();
  admin = await startAdminServer(src, { port: 0 });
  proxyMetrics = http.createServer((_req, res) => {
    res.end('# TYPE istio_requests_total counter\nistio_requests_total{source_region="us-east",destination_region="us-west",response_code="200"} 7\nistio_requests_total{source_region="us-east",destination_region="us-west",response_code="503"} 2\n');
  });
  await new Promise<void>((r) => proxyMetrics.listen(0, '127.0.0.1', () => r()));
});
after(async () => {
  await admin.close();
  await new Promise<void>((r) => proxyMetrics.close(() => r()));
});

const get = (path: string) => fetch(admin.url + path);

test('/healthz answers 200', async () => {
  const r = await get('/healthz');
  assert.equal(r.status, 200);
});

test('/readyz is 503 naming what it waits for, then 200 once the sources are ready', async () => {
  let r = await get('/readyz');
  assert.equal(r.status, 503);
  assert.match(await r.text(), /west-1/);
  src.readyState = { ready: true, reasons: [] };
  r = await get('/readyz');
  assert.equal(r.status, 200);
  src.readyState = { ready: false, reasons: ['xDS server to listen'] };
});

test('/metrics is valid Prometheus text with the sources\' metrics and cluster states', async () => {
  const r = await get('/metrics');
  assert.equal(r.status, 200);
  const samples = parsePrometheusText(await r.text());
  const push = samples.find((s) => s.name === 'meshfed_xds_pushes_total' && s.labels['type'] === 'EDS');
  assert.equal(push?.value, 3);
  assert.equal(samples.find((s) => s.name === 'meshfed_admin_clusters' && s.labels['state'] === 'connected')?.value, 3);
  assert.equal(samples.find((s) => s.name === 'meshfed_admin_services')?.value, 1);
});

test('the Prometheus parser rejects malformed text', () => {
  assert.throws(() => parsePrometheusText('foo{bar=baz} 1\n'), /line 1/);
  assert.throws(() => parsePrometheusText('ok 1\nbad line here\n'), /line 2/);
});

test('/debug/registry lists merged services with endpoint localities', async () => {
  const body = await (await get('/debug/registry')).json() as { key: string; endpoints: { cluster: string; locality: string; ready: boolean }[] }[];
  assert.equal(body[0]?.key, 'bookinfo/reviews');
  assert.equal(body[0]?.endpoints.length, 4);
  assert.ok(body[0]?.endpoints.some((e) => e.cluster === 'west-1' && e.locality === 'us-west/us-westa'));
  assert.equal(body[0]?.endpoints.filter((e) => !e.ready).length, 1);
});

test('/debug/syncz and /debug/clusters return the sources\' state', async () => {
  const syncz = await (await get('/debug/syncz')).json() as { nodeId: string }[];
  assert.deepEqual(syncz.map((p) => p.nodeId), src.proxyList.map((p) => p.nodeId));
  const clusters = await (await get('/debug/clusters')).json() as { name: string; region: string }[];
  assert.deepEqual(clusters.map((c) => `${c.name}@${c.region}`), ['east-1@us-east', 'east-2@us-east', 'west-1@us-west']);
});

test('/debug/config_dump returns a known node and 404s an unknown one with a clear message', async () => {
  const node = src.proxyList[0]!.nodeId;
  const ok = await get(`/debug/config_dump?node=${encodeURIComponent(node)}`);
  assert.equal(ok.status, 200);
  assert.ok(Array.isArray(((await ok.json()) as { configs: unknown[] }).configs));
  const missing = await get('/debug/config_dump?node=nobody');
  assert.equal(missing.status, 404);
  assert.match(await missing.text(), /unknown proxy node "nobody"/);
  assert.equal((await get('/debug/config_dump')).status, 400);
});

test('/debug/traffic sums istio_requests_total by region from scraped proxies, and says when unavailable', async () => {
  src.targets = [];
  const none = await (await get('/debug/traffic')).json() as { available: boolean; reason: string };
  assert.equal(none.available, false);
  assert.match(none.reason, /no proxy metrics/);
  const port = (proxyMetrics.address() as AddressInfo).port;
  src.targets = [{ name: 'gw-east', url: `http://127.0.0.1:${port}/stats/prometheus` }, { name: 'dead', url: 'http://127.0.0.1:1/stats/prometheus' }];
  const t = await (await get('/debug/traffic')).json() as { available: boolean; byRegion: Record<string, number>; errors: string[] };
  assert.equal(t.available, true);
  assert.equal(t.byRegion['us-east->us-west'], 9);
  assert.equal(t.errors.length, 1);
  assert.match(t.errors[0]!, /dead/);
  src.targets = [];
});

test('the dashboard page and its assets are served', async () => {
  const page = await get('/');
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<script src="\/app.js"/);
  assert.equal((await get('/app.js')).status, 200);
  assert.equal((await get('/graph.js')).status, 200);
  assert.equal((await get('/nope')).status, 404);
});

test('the graph library is served from the installed npm packages (gzipped when asked), and the graph model as JSON', async () => {
  for (const f of ['/vendor/cytoscape.min.js', '/vendor/layout-base.js', '/vendor/cose-base.js', '/vendor/cytoscape-fcose.js']) {
    const r = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(admin.url + f, { headers: { 'accept-encoding': 'gzip' } }, resolve).on('error', reject));
    r.resume();
    assert.equal(r.statusCode, 200, f);
    assert.equal(r.headers['content-encoding'], 'gzip', f);
  }
  assert.match(await (await get('/vendor/cytoscape.min.js')).text(), /cytoscape/);
  const g = await (await get('/debug/graph')).json() as { nodes: { id: string }[]; edges: unknown[] };
  assert.ok(g.nodes.some((n) => n.id === 'gateway/net-west'));
  const missing = await get('/debug/series');
  assert.equal(missing.status, 400);
  assert.match(await missing.text(), /missing \?id=/);
  assert.deepEqual(await (await get('/debug/series?id=nothing')).json(), { id: 'nothing', points: [] });
});

function collect(ws: WebSocket, n: number): Promise<{ kind: string; message: string }[]> {
  const got: { kind: string; message: string }[] = [];
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`only ${got.length}/${n} events within 5s`)), 5000);
    ws.on('message', (d) => {
      got.push(JSON.parse(String(d)) as { kind: string; message: string });
      if (got.length === n) { clearTimeout(t); resolve(got); }
    });
  });
}

test('/events sends recent history then live events', async () => {
  src.events.publish('cluster.connected', 'cluster east-1 connected', { cluster: 'east-1' });
  const ws = new WebSocket(admin.url.replace('http', 'ws') + '/events');
  const hist = src.events.history().length;
  const events = collect(ws, hist + 1);
  await new Promise((r) => ws.once('open', r));
  src.events.publish('proxy.nack', 'proxy x NACKed EDS v4', { node: 'x' });
  const got = await events;
  assert.equal(got[hist - 1]?.kind, 'cluster.connected');
  assert.equal(got[hist]?.kind, 'proxy.nack');
  ws.close();
});

test('a slow /events client is closed without blocking a healthy one', async () => {
  const small = await startAdminServer(src, { port: 0, maxClientBuffer: 256 * 1024 });
  try {
    const url = small.url.replace('http', 'ws') + '/events';
    const slow = new WebSocket(url);
    const fast = new WebSocket(url);
    await Promise.all([new Promise((r) => slow.once('open', r)), new Promise((r) => fast.once('open', r))]);
    // the slow client stops reading: pause its socket so the server's send buffer fills up
    (slow as unknown as { _socket: { pause(): void } })._socket.pause();
    let fastGot = 0;
    let slowGot = 0;
    slow.on('message', () => { slowGot++; });
    fast.on('message', () => { fastGot++; });
    const slowClosed = new Promise((r) => slow.once('close', r));
    // 400 × 32 KiB = 12.8 MiB, more than loopback socket buffers hold; published at a pace a reading client keeps up with
    const big = 'x'.repeat(32 * 1024);
    for (let i = 0; i < 400; i++) {
      src.events.publish('push.done', `push ${i} ${big}`);
      await new Promise((r) => setTimeout(r, 1));
    }
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`fast client got ${fastGot}/400`)), 10000);
      const iv = setInterval(() => { if (fastGot >= 400) { clearTimeout(t); clearInterval(iv); resolve(); } }, 20);
    });
    // the server has dropped the slow client: once it reads again it sees the connection end
    (slow as unknown as { _socket: { resume(): void } })._socket.resume();
    await Promise.race([slowClosed, new Promise((_r, rej) => setTimeout(() => rej(new Error('slow client was not closed')), 5000))]);
    assert.ok(slowGot < 400, `slow client should have been cut off, got all ${slowGot} events`);
    fast.close();
  } finally {
    await small.close();
  }
});
