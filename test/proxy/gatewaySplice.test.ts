import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { createHash, randomBytes } from 'node:crypto';
import { Gateway } from '../../src/proxy/gateway.ts';
import { newRegistry, type Registry } from '../../src/observe/metrics.ts';
import { createLogger } from '../../src/log.ts';
import { gatewaySni } from '../../src/mesh/names.ts';
import { gatewayMetrics, publishTraffic, trafficOf, type TrafficTable } from '../../src/proxy/gatewayMetrics.ts';
import { UpstreamReader, BufferPool, newReadPools, SMALL_READ_BYTES, LARGE_READ_BYTES, type SpliceTarget } from '../../src/proxy/gatewaySplice.ts';
import { selfSigned } from '../helpers/tlsCerts.ts';

const creds = selfSigned('bulk.test');
const sni = gatewaySni('bulk.demo.svc.cluster.local', 8080);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function metricValue(reg: Registry, name: string, service: string): Promise<number> {
  const m = (await reg.getMetricsAsJSON()).find((x) => x.name === name);
  return Number(m?.values.find((v) => v.labels.service === service)?.value ?? 0);
}

/**
 * A TLS endpoint: "DOWN" → sends `payload` and ends; "UP <n>" → reads n bytes, answers with their SHA-256.
 */
async function bulkEndpoint(payload: Buffer) {
  const srv = tls.createServer(creds, (s) => {
    s.on('error', () => {});
    let mode: 'cmd' | 'up' = 'cmd';
    let want = 0;
    const got: Buffer[] = [];
    let n = 0;
    s.on('data', (d: Buffer) => {
      if (mode === 'cmd') {
        const cmd = d.toString();
        if (cmd === 'DOWN') { s.end(payload); return; }
        const m = /^UP (\d+)\n/.exec(cmd);
        if (!m) return;
        mode = 'up'; want = Number(m[1]); d = d.subarray(m[0].length);
      }
      got.push(d); n += d.length;
      if (n >= want) s.end(sha(Buffer.concat(got)));
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { port: (srv.address() as net.AddressInfo).port, close: () => new Promise<void>((r) => { srv.close(() => r()); }) };
}

function connect(port: number): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const c = tls.connect({ host: '127.0.0.1', port, servername: sni, ca: creds.cert, checkServerIdentity: () => undefined }, () => resolve(c));
    c.once('error', reject);
  });
}

test('bulk data crosses the gateway intact both ways, with a slow reader (backpressure), and the byte counters move during the transfer', { timeout: 60_000 }, async () => {
  const payload = randomBytes(24 << 20);
  const ep = await bulkEndpoint(payload);
  const registry = newRegistry();
  const gw = new Gateway({ host: '127.0.0.1', port: 0, registry, log: createLogger('gateway-test') });
  gw.setEndpoints(new Map([[sni, [{ address: '127.0.0.1', port: ep.port, healthy: true }]]]));
  const port = await gw.listen();
  try {
    // downstream: the client stops reading now and then, so the gateway's writes queue and its reads must pause
    const c = await connect(port);
    const parts: Buffer[] = [];
    let received = 0;
    const midTransfer: number[] = [];
    const done = new Promise<void>((resolve, reject) => {
      c.on('data', (d: Buffer) => {
        parts.push(d);
        const before = received;
        received += d.length;
        if (Math.floor(before / (4 << 20)) !== Math.floor(received / (4 << 20))) {
          c.pause();
          void metricValue(registry, 'meshfed_gateway_bytes_sent_total', sni).then((v) => { midTransfer.push(v); setTimeout(() => c.resume(), 30); });
        }
      });
      c.on('end', () => resolve());
      c.on('error', reject);
    });
    c.write('DOWN');
    await done;
    c.destroy();
    assert.equal(received, payload.length);
    assert.equal(sha(Buffer.concat(parts)), sha(payload), 'the bytes arrive unchanged and in order');
    assert.ok(midTransfer.length >= 4, 'scraped during the transfer');
    assert.ok(midTransfer[0]! > 0 && midTransfer.at(-1)! > midTransfer[0]!, `bytes_sent grows during the transfer: ${midTransfer.join(', ')}`);

    // upstream: the client sends a large body; the endpoint answers with its hash
    const u = await connect(port);
    const body = payload.subarray(0, 16 << 20);
    const answer = new Promise<string>((resolve, reject) => {
      let a = '';
      u.on('data', (d: Buffer) => { a += d.toString(); });
      u.on('end', () => resolve(a));
      u.on('error', reject);
    });
    u.write(`UP ${body.length}\n`);
    u.write(body);
    assert.equal(await answer, sha(body));
    u.destroy();
    assert.ok(await metricValue(registry, 'meshfed_gateway_bytes_received_total', sni) > body.length);
    assert.ok(await metricValue(registry, 'meshfed_gateway_bytes_sent_total', sni) > payload.length);
    assert.equal(await metricValue(registry, 'meshfed_gateway_connections_total', sni), 2);
  } finally {
    await gw.drain(200);
    await ep.close();
  }
});

test('traffic figures are published to Prometheus as they are at each scrape, without counting anything twice', async () => {
  const registry = newRegistry();
  const m = gatewayMetrics(registry);
  const table: TrafficTable = new Map();
  const a = trafficOf(table, 'a');
  a.connectionsTotal += 2; a.connectionsActive += 2; a.bytesIn += 100; a.bytesOut += 1000;
  publishTraffic(table, m);
  publishTraffic(table, m); // nothing new: no change
  assert.equal(await metricValue(registry, 'meshfed_gateway_connections_total', 'a'), 2);
  assert.equal(await metricValue(registry, 'meshfed_gateway_bytes_sent_total', 'a'), 1000);
  a.connectionsActive -= 2; a.bytesOut += 24; trafficOf(table, 'b').connectionsTotal += 1;
  publishTraffic(table, m);
  assert.equal(await metricValue(registry, 'meshfed_gateway_connections_active', 'a'), 0);
  assert.equal(await metricValue(registry, 'meshfed_gateway_bytes_sent_total', 'a'), 1024);
  assert.equal(await metricValue(registry, 'meshfed_gateway_bytes_received_total', 'a'), 100);
  assert.equal(await metricValue(registry, 'meshfed_gateway_connections_total', 'b'), 1);
  assert.equal(trafficOf(table, 'a'), a, 'the same live figures are returned for a service');
});

test('the upstream read buffer is reused only when nothing queued still refers to it, and grows for bulk reads', () => {
  const pools = newReadPools();
  const r = new UpstreamReader(pools);
  const stats = trafficOf(new Map(), 's');
  let queued = 0;
  const written: Buffer[] = [];
  const down = {
    destroyed: false,
    get writableLength() { return queued; },
    write(chunk: Buffer): boolean { written.push(chunk); return queued < 16 * 1024; },
  } as unknown as SpliceTarget;
  r.attach(down, stats);
  const b1 = r.onread.buffer();
  assert.equal(b1.length, SMALL_READ_BYTES, 'a connection starts with a small buffer');
  b1.fill(1, 0, 100);
  assert.equal(r.onread.callback(100, b1), true, 'written at once: keep reading');
  assert.equal(r.onread.buffer(), b1, 'into the same buffer');
  assert.deepEqual(written[0], Buffer.alloc(100, 1));
  queued = 100; // the next write is queued, under the high-water mark
  assert.equal(r.onread.callback(50, b1), true, 'under the high-water mark: keep reading');
  const b2 = r.onread.buffer();
  assert.notEqual(b2, b1, 'but not into the buffer the queued write refers to');
  assert.equal(pools.small.idle, 0, 'the queued buffer is not given back to the pool');
  queued = 0;
  assert.equal(r.onread.callback(b2.length, b2), true, 'a full read, written at once');
  const b3 = r.onread.buffer();
  assert.equal(b3.length, LARGE_READ_BYTES, 'a full small read moves the connection to a large buffer');
  assert.equal(pools.small.idle, 1, 'and the small one, written, goes back to the pool');
  queued = 64 * 1024; // queued over the high-water mark
  assert.equal(r.onread.callback(64 * 1024, b3), false, 'stop reading until drain');
  assert.equal(r.onread.buffer(), b3, 'after drain everything queued is written: the buffer is reused');
  assert.equal(stats.bytesOut, 100 + 50 + SMALL_READ_BYTES + 64 * 1024);
  (down as { destroyed: boolean }).destroyed = true;
  assert.equal(r.onread.callback(10, b3), false, 'a destroyed client stops reading');
  r.release();
  r.release();
  assert.equal(pools.large.idle, 1, 'released once into its pool');
  assert.equal(pools.large.take(), b3, 'and taken again by the next connection');
});

test('a buffer pool keeps at most its maximum of idle buffers, only of its size', () => {
  const p = new BufferPool(1024, 2);
  const a = p.take(); const b = p.take(); const c = p.take();
  p.give(a); p.give(b); p.give(c); p.give(Buffer.alloc(10));
  assert.equal(p.idle, 2);
  assert.notEqual(p.take(), c);
});
