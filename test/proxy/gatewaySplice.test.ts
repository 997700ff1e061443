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
import { TRANSPORTS } from '../helpers/transports.ts';
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

for (const transport of TRANSPORTS) test(`[${transport.name}] bulk data crosses the gateway intact both ways, with a slow reader (backpressure), and the byte counters move during the transfer`, { timeout: 60_000 }, async () => {
  const payload = randomBytes(24 << 20);
  const ep = await bulkEndpoint(payload);
  const registry = newRegistry();
  const gw = new Gateway({ host: '127.0.0.1', port: 0, registry, log: createLogger('gateway-test'), transport });
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
