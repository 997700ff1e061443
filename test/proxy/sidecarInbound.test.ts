import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { startInbound } from '../../src/proxy/sidecarInbound.ts';
import { Gateway } from '../../src/proxy/gateway.ts';
import { newRegistry, type Registry } from '../../src/observe/metrics.ts';
import { createLogger } from '../../src/log.ts';
import { gatewaySni } from '../../src/mesh/names.ts';
import { meshCa } from '../helpers/tlsCerts.ts';
import { demoPeers } from '../helpers/demoPeers.ts';

const { ca, idA, idB, certA, certB, sni } = demoPeers();
const foreign = meshCa('foreign-root');
const foreignA = foreign.leaf(idA);

async function metricValue(reg: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const m = (await reg.getMetricsAsJSON()).find((x) => x.name === name);
  return Number(m?.values.find((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v))?.value ?? 0);
}

function get(port: number, cert: { key: string; cert: string } | undefined, servername: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/hello', servername, ca: ca.root, ...(cert ?? {}), checkServerIdentity: () => undefined, agent: false, headers: { 'x-request-id': 'rid-1' } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

test('A (mesh cert) → gateway (SNI passthrough) → B inbound → app: B sees A\'s SPIFFE ID in XFCC; the gateway only moved bytes', async () => {
  const app = http.createServer((req, res) => res.end(JSON.stringify({ xfcc: req.headers['x-forwarded-client-cert'], rid: req.headers['x-request-id'] })));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const regB = newRegistry();
  const inbound = await startInbound({ host: '127.0.0.1', port: 0, appPort: (app.address() as net.AddressInfo).port, ownId: idB, trustDomain: 'cluster.local', destinationService: 'b.demo.svc.cluster.local', tls: { ...certB, ca: ca.root }, registry: regB, log: createLogger('t') });
  const regGw = newRegistry();
  const gw = new Gateway({ host: '127.0.0.1', port: 0, registry: regGw, log: createLogger('t') });
  gw.setEndpoints(new Map([[sni, [{ address: '127.0.0.1', port: inbound.port, healthy: true }]]]));
  const gwPort = await gw.listen();
  try {
    const r = await get(gwPort, certA, sni);
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.body) as { xfcc: string; rid: string };
    assert.equal(seen.xfcc, `By=${idB};URI=${idA}`);
    assert.equal(seen.rid, 'rid-1', 'x-request-id propagated');
    assert.ok(await metricValue(regGw, 'meshfed_gateway_bytes_received_total', { service: sni }) > 0);
    assert.ok(await metricValue(regGw, 'meshfed_gateway_bytes_sent_total', { service: sni }) > 0);
    assert.equal(await metricValue(regB, 'istio_requests_total', { source_workload: 'a', response_code: '200' }), 1);
  } finally {
    await gw.drain(100); await inbound.close(); app.close();
  }
});

test('B inbound refuses a client without a mesh cert, a foreign CA, and plaintext — and counts them', async () => {
  const app = http.createServer((_req, res) => res.end('app'));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const reg = newRegistry();
  const inbound = await startInbound({ host: '127.0.0.1', port: 0, appPort: (app.address() as net.AddressInfo).port, ownId: idB, trustDomain: 'cluster.local', destinationService: 'b', tls: { ...certB, ca: ca.root }, registry: reg, log: createLogger('t') });
  try {
    await assert.rejects(get(inbound.port, undefined, sni));
    await assert.rejects(get(inbound.port, foreignA, sni));
    await new Promise<void>((resolve) => {
      const c = net.connect(inbound.port, '127.0.0.1', () => c.write('GET / HTTP/1.1\r\nHost: b\r\n\r\n'));
      c.on('error', () => {}); c.on('close', () => resolve()); c.resume();
    });
    assert.equal((await get(inbound.port, certA, sni)).body, 'app', 'a mesh client still gets through');
    const total = (await reg.getMetricsAsJSON()).find((m) => m.name === 'meshfed_sidecar_inbound_refused_total')!.values.reduce((s, v) => s + Number(v.value), 0);
    assert.equal(total, 3);
  } finally {
    await inbound.close(); app.close();
  }
});

test('B inbound forwards to the app port named by the service port in the caller\'s SNI', async () => {
  const mk = async (name: string) => { const s = http.createServer((_q, r) => r.end(name)); await new Promise<void>((r) => s.listen(0, '127.0.0.1', r)); return s; };
  const web = await mk('web');
  const admin = await mk('admin');
  const port = (s: http.Server) => (s.address() as net.AddressInfo).port;
  const inbound = await startInbound({ host: '127.0.0.1', port: 0, appPort: port(web), appPorts: new Map([[9090, port(admin)]]), ownId: idB, trustDomain: 'cluster.local', destinationService: 'b', tls: { ...certB, ca: ca.root }, registry: newRegistry(), log: createLogger('t') });
  try {
    assert.equal((await get(inbound.port, certA, gatewaySni('b.demo.svc.cluster.local', 9090))).body, 'admin');
    assert.equal((await get(inbound.port, certA, gatewaySni('b.demo.svc.cluster.local', 8080))).body, 'web');
  } finally {
    await inbound.close(); web.close(); admin.close();
  }
});
