import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { startInbound, type Inbound } from '../../src/proxy/sidecarInbound.ts';
import { Outbound } from '../../src/proxy/sidecarOutbound.ts';
import { Gateway } from '../../src/proxy/gateway.ts';
import { parseOutboundTarget, candidateHosts } from '../../src/proxy/outboundTarget.ts';
import { withoutHopByHop } from '../../src/proxy/hopByHop.ts';
import { newRegistry } from '../../src/observe/metrics.ts';
import { createLogger } from '../../src/log.ts';
import { demoPeers } from '../helpers/demoPeers.ts';

const { ca, idA, idB, certA, certB, HOST, sni } = demoPeers();
const log = createLogger('t');

test('outbound target parsing: absolute-form, origin-form with Host, kube-style short names', () => {
  assert.deepEqual(parseOutboundTarget('http://b.demo:8080/x?y=1', undefined), { host: 'b.demo', port: 8080, path: '/x?y=1' });
  assert.deepEqual(parseOutboundTarget('/p', 'B:9090'), { host: 'b', port: 9090, path: '/p' });
  assert.ok('error' in parseOutboundTarget('/p', undefined));
  assert.deepEqual(candidateHosts('b', 'demo'), ['b', HOST]);
  assert.deepEqual(candidateHosts('b.demo', 'x'), ['b.demo', HOST]);
});

async function appB(name: string): Promise<http.Server> {
  const s = http.createServer((req, res) => res.end(JSON.stringify({ name, xfcc: req.headers['x-forwarded-client-cert'], rid: req.headers['x-request-id'] })));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return s;
}
const inboundFor = (app: http.Server): Promise<Inbound> => startInbound({ host: '127.0.0.1', port: 0, appPort: (app.address() as net.AddressInfo).port, ownId: idB, trustDomain: 'cluster.local', destinationService: HOST, tls: { ...certB, ca: ca.root }, registry: newRegistry(), log });

function viaProxy(proxyPort: number, url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, path: url, headers, agent: false }, (res) => {
      let body = ''; res.on('data', (d) => (body += d)); res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('workload A → A sidecar (HTTP_PROXY) → gateway → B sidecar → B: B sees A\'s SPIFFE ID; unknown service is a clear 503', async () => {
  const app = await appB('b1');
  const inbound = await inboundFor(app);
  const gw = new Gateway({ host: '127.0.0.1', port: 0, registry: newRegistry(), log });
  gw.setEndpoints(new Map([[sni, [{ address: '127.0.0.1', port: inbound.port, healthy: true }]]]));
  const gwPort = await gw.listen();
  const out = new Outbound({ host: '127.0.0.1', port: 0, namespace: 'demo', sourceWorkload: 'a', trustDomain: 'cluster.local', tls: { ...certA, ca: ca.root }, registry: newRegistry(), log });
  out.setEndpoints(new Map([[sni, [{ address: '127.0.0.1', port: gwPort, healthy: true }]]])); // B is on another network: its gateway
  const port = await out.listen();
  try {
    const r = await viaProxy(port, 'http://b.demo:8080/hello', { 'x-request-id': 'r-42' });
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.body) as { xfcc: string; rid: string };
    assert.equal(seen.xfcc, `By=${idB};URI=${idA}`);
    assert.equal(seen.rid, 'r-42');
    const origin = await viaProxy(port, '/hello', { host: 'b:8080' });
    assert.equal(origin.status, 200);
    const unknown = await viaProxy(port, 'http://nope.demo:80/');
    assert.equal(unknown.status, 503);
    assert.match(unknown.body, /unknown service nope\.demo:80/);
  } finally {
    await out.close(); await gw.drain(100); await inbound.close(); app.close();
  }
});

test('stopping one of B\'s endpoints mid-load loses no idempotent request (bounded: 150 requests)', async () => {
  const apps = [await appB('b1'), await appB('b2')];
  const inbounds = [await inboundFor(apps[0]!), await inboundFor(apps[1]!)];
  const out = new Outbound({ host: '127.0.0.1', port: 0, namespace: 'demo', sourceWorkload: 'a', trustDomain: 'cluster.local', tls: { ...certA, ca: ca.root }, registry: newRegistry(), log });
  out.setEndpoints(new Map([[sni, inbounds.map((i) => ({ address: '127.0.0.1', port: i.port, healthy: true }))]]));
  const port = await out.listen();
  try {
    const results: number[] = [];
    const names = new Set<string>();
    for (let i = 0; i < 150; i++) {
      if (i === 50) await inbounds[0]!.close(); // endpoint dies; xDS has not caught up
      const batch = await Promise.all([0, 1].map(() => viaProxy(port, `http://${HOST}:8080/`)));
      for (const r of batch) { results.push(r.status); if (r.status === 200) names.add((JSON.parse(r.body) as { name: string }).name); }
    }
    assert.equal(results.filter((s) => s !== 200).length, 0, 'every request succeeded');
    assert.deepEqual(names, new Set(['b1', 'b2']), 'both endpoints served before the failure');
  } finally {
    await out.close(); await inbounds[1]!.close(); for (const a of apps) a.close();
  }
});

test('per-try timeout moves a hung endpoint\'s request to another; the overall timeout answers 504 when all hang', async () => {
  const hung = http.createServer(() => { /* never answers */ });
  await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
  const good = await appB('good');
  const inHung = [await inboundFor(hung), await inboundFor(hung), await inboundFor(hung), await inboundFor(hung), await inboundFor(hung)];
  const inGood = await inboundFor(good);
  const out = new Outbound({ host: '127.0.0.1', port: 0, namespace: 'demo', sourceWorkload: 'a', trustDomain: 'cluster.local', tls: { ...certA, ca: ca.root }, registry: newRegistry(), log, perTryTimeoutMs: 300, timeoutMs: 700, maxAttempts: 6 });
  const port = await out.listen();
  const ep = (i: Inbound, priority: number) => ({ address: '127.0.0.1', port: i.port, healthy: true, priority });
  try {
    // the hung endpoint is tried first (priority 0), the good one answers after the per-try timeout
    out.setEndpoints(new Map([[sni, [ep(inHung[0]!, 0), ep(inGood, 1)]]]));
    const r = await viaProxy(port, `http://${HOST}:8080/`);
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as { name: string }).name, 'good');
    // every endpoint hangs: 504 from the overall timeout, not a wait of 5 × per-try
    out.setEndpoints(new Map([[sni, inHung.map((i) => ep(i, 0))]]));
    const t0 = Date.now();
    const r2 = await viaProxy(port, `http://${HOST}:8080/`);
    assert.equal(r2.status, 504, r2.body);
    assert.match(r2.body, /overall timeout of 700 ms/);
    assert.ok(Date.now() - t0 < 3000, 'answered near the overall timeout');
  } finally {
    await out.close();
    for (const i of [...inHung, inGood]) await i.close();
    hung.closeAllConnections(); hung.close(); good.close();
  }
});

test('a black-holed endpoint (accepts TCP, never answers TLS) fails over within the connect timeout; the whole request has a deadline (504)', async () => {
  const app = await appB('b1');
  const inbound = await inboundFor(app);
  // a TCP listener that never completes a TLS handshake: like a paused process or a dropped SYN/ACK path
  const hole = net.createServer(() => { /* never answers */ });
  await new Promise<void>((r) => hole.listen(0, '127.0.0.1', r));
  const holePort = (hole.address() as net.AddressInfo).port;
  const registry = newRegistry();
  const out = new Outbound({ host: '127.0.0.1', port: 0, namespace: 'demo', sourceWorkload: 'a', trustDomain: 'cluster.local', tls: { ...certA, ca: ca.root }, registry, log, connectTimeoutMs: 300, timeoutMs: 2000 });
  out.setEndpoints(new Map([[sni, [{ address: '127.0.0.1', port: holePort, healthy: true, priority: 0 }, { address: '127.0.0.1', port: inbound.port, healthy: true, priority: 1 }]]]));
  const port = await out.listen();
  try {
    const t0 = Date.now();
    const r = await viaProxy(port, `http://${HOST}:8080/`, { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    assert.equal(r.status, 200, r.body);
    assert.ok(Date.now() - t0 < 1500, `failover took ${Date.now() - t0} ms`);
    // bytes are counted per request
    const bytes = (await registry.getSingleMetric('istio_response_bytes_total')!.get()).values.reduce((n, v) => n + v.value, 0);
    assert.equal(bytes, Buffer.byteLength(r.body));
    // only the black hole left: the request ends at its overall deadline with a 504, not after minutes
    out.setEndpoints(new Map([[sni, [{ address: '127.0.0.1', port: holePort, healthy: true }]]]));
    const t1 = Date.now();
    const late = await viaProxy(port, `http://${HOST}:8080/`);
    assert.ok([503, 504].includes(late.status), `${late.status} ${late.body}`);
    assert.ok(Date.now() - t1 < 2500, `gave up after ${Date.now() - t1} ms`);
  } finally {
    await out.close(); hole.close(); await inbound.close(); app.close();
  }
});

test('DestinationRule connection pool on the wire: maxRequestsPerConnection closes connections after their quota, maxConnections caps the pool', async () => {
  // a destination that counts the mTLS connections it accepts and answers HTTP on them
  let connections = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const web = http.createServer((req, res) => { inFlight++; maxInFlight = Math.max(maxInFlight, inFlight); setTimeout(() => { inFlight--; res.end('ok'); }, Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? 0)); });
  const dest = tls.createServer({ ...certB, ca: ca.root, requestCert: true, rejectUnauthorized: true }, (s) => { connections++; web.emit('connection', s); });
  await new Promise<void>((r) => dest.listen(0, '127.0.0.1', r));
  const out = new Outbound({ host: '127.0.0.1', port: 0, namespace: 'demo', sourceWorkload: 'a', trustDomain: 'cluster.local', tls: { ...certA, ca: ca.root }, registry: newRegistry(), log });
  out.setEndpoints(new Map([[sni, [{ address: '127.0.0.1', port: (dest.address() as net.AddressInfo).port, healthy: true }]]]));
  const port = await out.listen();
  try {
    for (let i = 0; i < 6; i++) assert.equal((await viaProxy(port, `http://${HOST}:8080/`)).status, 200);
    assert.equal(connections, 1, 'without a limit one keep-alive connection serves every request');
    out.setPolicy(new Map(), new Map([[sni, { lb: 'ROUND_ROBIN', maxRequestsPerConnection: 2 }]]));
    connections = 0;
    for (let i = 0; i < 6; i++) assert.equal((await viaProxy(port, `http://${HOST}:8080/`)).status, 200);
    assert.equal(connections, 3, '6 requests, 2 per connection');
    out.setPolicy(new Map(), new Map([[sni, { lb: 'ROUND_ROBIN', maxConnections: 1 }]]));
    connections = 0;
    maxInFlight = 0;
    const all = await Promise.all(Array.from({ length: 4 }, () => viaProxy(port, `http://${HOST}:8080/?ms=100`)));
    assert.deepEqual(all.map((r) => r.status), [200, 200, 200, 200], 'no pending limit: the 4 requests queue for the one connection');
    assert.equal(connections, 1);
    assert.equal(maxInFlight, 1, 'the destination never saw two requests at once');
  } finally {
    await out.close(); web.closeAllConnections(); dest.close();
  }
});

test('hop-by-hop headers are not forwarded (and those the Connection header names)', () => {
  assert.deepEqual(withoutHopByHop({ connection: 'close, x-trace-hop', 'keep-alive': 'timeout=5', 'x-trace-hop': '1', 'proxy-connection': 'keep-alive', 'transfer-encoding': 'chunked', upgrade: 'h2c', te: 'trailers', 'x-keep': 'yes', host: 'b:80' }), { 'x-keep': 'yes', host: 'b:80' });
});
