// End to end with the REAL pilot and the REAL mesh CA: A (network n1, region r1) → A's sidecar → B's network
// gateway → B's sidecar → B (only on network n2, region r2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { startMeshControl, callVia, scrape, metricSum, until, SVC_PORT } from './fixtures/mesh.ts';
import { spiffeId, gatewaySni } from '../../src/mesh/names.ts';
import type { EchoReply } from '../../src/demo/echo.ts';

test('A calls B across networks through the real pilot/CA: B sees A, gateway splices ciphertext, no-cert and garbage refused', { timeout: 90000 }, async () => {
  const mc = await startMeshControl(['c1', 'c2'], { r1: ['r2'], r2: ['r1'] });
  try {
    const gw1 = await mc.startGateway('n1', 'r1', 'c1', '127.0.1.254');
    const gw2 = await mc.startGateway('n2', 'r2', 'c2', '127.0.2.254');
    assert.equal(gw2.gw.ready(), false, 'a gateway without config is not ready');
    const a = await mc.startMeshedEcho({ name: 'a-0', ip: '127.0.1.1', cluster: 'c1', network: 'n1', region: 'r1', serviceAccount: 'a' });
    const b = await mc.startMeshedEcho({ name: 'b-0', ip: '127.0.2.1', cluster: 'c2', network: 'n2', region: 'r2', serviceAccount: 'b' });
    mc.publish();
    await until('gateways ready', async () => (gw1.gw.ready() && gw2.gw.ready() ? true : undefined));
    const r = await until('A → B served', async () => {
      const x = await callVia(a.w.ip, a.sidecar.outbound, `http://b:${SVC_PORT}/hello`);
      return x.status === 200 ? x : undefined;
    });
    const reply = JSON.parse(r.body) as EchoReply;
    assert.equal(reply.cluster, 'c2');
    assert.equal(reply.caller, spiffeId('cluster.local', 'demo', 'a'), 'B sees A\'s SPIFFE ID');
    assert.match(reply.requestId ?? '', /^[0-9a-f-]{36}$/, 'x-request-id created');
    assert.match(reply.traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/, 'traceparent started');
    const traced = await callVia(a.w.ip, a.sidecar.outbound, `http://b:${SVC_PORT}/t`, { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'x-request-id': 'rid-7' });
    const tr = JSON.parse(traced.body) as EchoReply;
    assert.equal(tr.traceparent, '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'a valid traceparent is propagated');
    assert.equal(tr.requestId, 'rid-7');

    // the gateway on n2 spliced the bytes (it has no certificate or key: GatewayConfig has none)
    const gm = await scrape(gw2.ip, gw2.gw.metrics);
    const svcRe = /service="outbound_\.8080_\._\.b\.demo\.svc\.cluster\.local"/;
    assert.ok(metricSum(gm, 'meshfed_gateway_bytes_received_total', svcRe) > 500, gm);
    assert.ok(metricSum(gm, 'meshfed_gateway_bytes_sent_total', svcRe) > 500, gm);
    // what B's sidecar received was TLS all the way: a plaintext request through the gateway would not parse,
    // and a TLS client without a mesh certificate is refused at B's sidecar (the gateway cannot help it)
    const before = metricSum(await scrape(b.w.ip, b.sidecar.metrics), 'meshfed_sidecar_inbound_refused_total');
    const refused = await new Promise<string>((resolve) => {
      const s = tls.connect({ host: gw2.ip, port: gw2.gw.listen, servername: gatewaySni('b.demo.svc.cluster.local', SVC_PORT), rejectUnauthorized: false }, () => {
        s.write('GET / HTTP/1.1\r\nhost: b\r\n\r\n');
      });
      let got = '';
      s.on('data', (d: Buffer) => (got += d));
      s.on('error', (e) => resolve(`error: ${e.message}`));
      s.on('close', () => resolve(got ? `data: ${got}` : 'closed'));
    });
    assert.doesNotMatch(refused, /200 OK/);
    await until('B counted the refusal', async () => (metricSum(await scrape(b.w.ip, b.sidecar.metrics), 'meshfed_sidecar_inbound_refused_total') > before ? true : undefined), 5000);

    // garbage on 15443 is closed and counted
    const closed = await new Promise<boolean>((resolve) => {
      const s = net.connect(gw2.gw.listen, gw2.ip, () => s.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n'));
      s.on('error', () => {});
      s.on('close', () => resolve(true));
      setTimeout(() => { s.destroy(); resolve(false); }, 10000);
    });
    assert.ok(closed, 'gateway closes a non-TLS connection');
    assert.ok(metricSum(await scrape(gw2.ip, gw2.gw.metrics), 'meshfed_gateway_rejected_connections_total') >= 1);

    // source telemetry with regions, as the dashboard reads it
    const am = await scrape(a.w.ip, a.sidecar.metrics);
    assert.ok(metricSum(am, 'istio_requests_total', /source_cluster="c1",source_region="r1",destination_service="b\.demo\.svc\.cluster\.local",destination_cluster="c2",destination_region="r2",response_code="200"/) >= 2, am);
    assert.ok(metricSum(am, 'istio_response_bytes_total', /destination_region="r2"/) > 100, 'response bytes counted');
    const bm = await scrape(b.w.ip, b.sidecar.metrics);
    assert.ok(metricSum(bm, 'istio_requests_total', /reporter="destination",source_workload="a",source_cluster="c1",destination_service="b\.demo\.svc\.cluster\.local",destination_cluster="c2",destination_region="r2",response_code="200"/) >= 2, bm);
    assert.equal(metricSum(bm, 'istio_requests_total', /source_region=/), 0, 'the destination reporter carries no source_region (no double counting by region)');
    // HTTP CONNECT: a raw TCP tunnel A → gateway → B's sidecar (ALPN meshfed-tcp) → B's app port
    const tunnel = (target: string, payload: string): Promise<string> => new Promise((resolve, reject) => {
      const c = net.connect(a.sidecar.outbound, a.w.ip, () => c.write(`CONNECT ${target} HTTP/1.1\r\nhost: ${target}\r\n\r\n`));
      let got = '';
      let sent = false;
      c.on('data', (d: Buffer) => {
        got += d;
        if (!sent && got.startsWith('HTTP/1.1 200') && got.includes('\r\n\r\n')) { sent = true; c.write(payload); }
      });
      c.on('close', () => resolve(got));
      c.on('error', reject);
      setTimeout(() => { c.destroy(); reject(new Error(`tunnel timed out; got ${got}`)); }, 20000).unref();
    });
    const raw = await tunnel(`b:${SVC_PORT}`, 'GET /raw HTTP/1.1\r\nhost: b\r\nconnection: close\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 200 Connection Established\r\n\r\nHTTP\/1\.1 200 OK/);
    assert.match(raw, /"cluster":"c2".*"path":"\/raw"/);
    assert.doesNotMatch(raw, /"caller"/, 'raw TCP reaches the app without HTTP processing');
    assert.match(await tunnel(`nope:${SVC_PORT}`, ''), /^HTTP\/1\.1 503 .*\r\n\r\nmeshfed sidecar: unknown service nope/s);
    // unknown service → 503 with a clear body
    const u = await callVia(a.w.ip, a.sidecar.outbound, `http://nope:${SVC_PORT}/`);
    assert.equal(u.status, 503);
    assert.match(u.body, /unknown service nope/);
  } finally {
    await mc.stop();
  }
});
