import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { Gateway } from '../../src/proxy/gateway.ts';
import { newRegistry, type Registry } from '../../src/observe/metrics.ts';
import { createLogger } from '../../src/log.ts';
import { gatewaySni } from '../../src/mesh/names.ts';
import { selfSigned } from '../helpers/tlsCerts.ts';
import { TRANSPORTS } from '../helpers/transports.ts';
import type { Conn, Transport } from '../../src/proxy/conn.ts';

const creds = selfSigned('endpoint.test');
const echoSni = gatewaySni('echo.demo.svc.cluster.local', 8080);
const otherSni = gatewaySni('other.demo.svc.cluster.local', 9090);

/** A TLS endpoint that answers every line with "<name>:<line>". */
async function tlsEndpoint(name: string): Promise<{ port: number; close: () => Promise<void> }> {
  const srv = tls.createServer(creds, (s) => { s.on('data', (d: Buffer) => s.write(`${name}:${d.toString()}`)); s.on('error', () => {}); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { port: (srv.address() as net.AddressInfo).port, close: () => new Promise((r) => { srv.close(() => r()); }) };
}

async function freePortClosed(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

function ask(port: number, servername: string, msg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = tls.connect({ host: '127.0.0.1', port, servername, ca: creds.cert, checkServerIdentity: () => undefined }, () => c.write(msg));
    c.once('data', (d: Buffer) => { resolve(d.toString()); c.end(); });
    c.once('error', reject);
    c.setTimeout(5000, () => { c.destroy(); reject(new Error('timeout')); });
  });
}

async function metricValue(reg: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const m = (await reg.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return Number(v?.value ?? 0);
}

async function startGateway(transport: Transport, table: Map<string, { address: string; port: number; healthy: boolean }[]>, helloTimeoutMs = 500, idleTimeoutMs?: number, connectTimeoutMs?: number) {
  const registry = newRegistry();
  const gw = new Gateway({ host: '127.0.0.1', port: 0, registry, log: createLogger('gateway-test'), helloTimeoutMs, transport, ...(idleTimeoutMs !== undefined ? { idleTimeoutMs } : {}), ...(connectTimeoutMs !== undefined ? { connectTimeoutMs } : {}) });
  gw.setEndpoints(table);
  const port = await gw.listen();
  return { gw, port, registry };
}

for (const transport of TRANSPORTS) test(`[${transport.name}] routes by SNI to the right service through an end-to-end TLS splice, and counts bytes`, async () => {
  const echo = await tlsEndpoint('echo');
  const other = await tlsEndpoint('other');
  const { gw, port, registry } = await startGateway(transport, new Map([
    [echoSni, [{ address: '127.0.0.1', port: echo.port, healthy: true }]],
    [otherSni, [{ address: '127.0.0.1', port: other.port, healthy: true }]],
  ]));
  try {
    assert.equal(await ask(port, echoSni, 'hi'), 'echo:hi');
    assert.equal(await ask(port, otherSni, 'yo'), 'other:yo');
    assert.ok(await metricValue(registry, 'meshfed_gateway_bytes_received_total', { service: echoSni }) > 100);
    assert.ok(await metricValue(registry, 'meshfed_gateway_bytes_sent_total', { service: echoSni }) > 100);
    assert.equal(await metricValue(registry, 'meshfed_gateway_connections_total', { service: otherSni }), 1);
  } finally {
    await gw.drain(100); await echo.close(); await other.close();
  }
});

for (const transport of TRANSPORTS) test(`[${transport.name}] garbage, unknown SNI and a slow hello are closed and counted while real traffic still flows`, async () => {
  const echo = await tlsEndpoint('echo');
  const { gw, port, registry } = await startGateway(transport, new Map([[echoSni, [{ address: '127.0.0.1', port: echo.port, healthy: true }]]]), 300);
  const closedBy = (payload: Buffer | null) => new Promise<void>((resolve) => {
    const c = net.connect(port, '127.0.0.1', () => { if (payload) c.write(payload); });
    c.on('error', () => {}); c.on('close', () => resolve());
  });
  try {
    const flood = [];
    for (let i = 0; i < 40; i++) flood.push(closedBy(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')));
    const ok = await Promise.all([ask(port, echoSni, 'a'), ask(port, echoSni, 'b')]);
    assert.deepEqual(ok, ['echo:a', 'echo:b']);
    await Promise.all(flood);
    await closedBy(Buffer.from([0x16, 0x03, 0x01])); // slow: never completes the hello
    await assert.rejects(ask(port, gatewaySni('nope.demo.svc.cluster.local', 80), 'x'));
    assert.equal(await metricValue(registry, 'meshfed_gateway_rejected_connections_total', { reason: 'not_tls' }), 40);
    assert.equal(await metricValue(registry, 'meshfed_gateway_rejected_connections_total', { reason: 'hello_timeout' }), 1);
    assert.equal(await metricValue(registry, 'meshfed_gateway_rejected_connections_total', { reason: 'unknown_sni' }), 1);
  } finally {
    await gw.drain(100); await echo.close();
  }
});

for (const transport of TRANSPORTS) test(`[${transport.name}] a refusing endpoint is retried on another, then ejected after consecutive failures`, async () => {
  const echo = await tlsEndpoint('echo');
  const dead = await freePortClosed();
  const { gw, port, registry } = await startGateway(transport, new Map([[echoSni, [
    { address: '127.0.0.1', port: dead, healthy: true },
    { address: '127.0.0.1', port: echo.port, healthy: true },
  ]]]));
  try {
    for (let i = 0; i < 8; i++) assert.equal(await ask(port, echoSni, `m${i}`), `echo:m${i}`);
    const failures = await metricValue(registry, 'meshfed_gateway_upstream_connect_failures_total', { service: echoSni });
    assert.equal(await metricValue(registry, 'meshfed_gateway_outlier_ejections_total', { service: echoSni }), 1);
    assert.equal(failures, 3, 'after ejection the dead endpoint is no longer tried');
  } finally {
    await gw.drain(100); await echo.close();
  }
});

for (const transport of TRANSPORTS) test(`[${transport.name}] an upstream connect that never completes is abandoned at the connect timeout and another endpoint serves`, async () => {
  const echo = await tlsEndpoint('echo');
  const hangPort = await freePortClosed();
  // connects to hangPort never complete: the connection is made elsewhere, and its completion never reported
  const hung: Conn[] = [];
  const hanging: Transport = {
    ...transport,
    connect(host, port, onConnect) {
      if (port !== hangPort) return transport.connect(host, port, onConnect);
      const c = transport.connect(host, echo.port, () => {});
      hung.push(c);
      return c;
    },
  };
  const { gw, port, registry } = await startGateway(hanging, new Map([[echoSni, [
    { address: '127.0.0.1', port: hangPort, healthy: true },
    { address: '127.0.0.1', port: echo.port, healthy: true },
  ]]]), 500, undefined, 200);
  try {
    const started = Date.now();
    for (let i = 0; i < 4; i++) assert.equal(await ask(port, echoSni, `m${i}`), `echo:m${i}`);
    assert.ok(hung.length >= 1, 'the hanging endpoint was tried');
    assert.ok(hung.every((c) => c.destroyed), 'each abandoned connect was closed');
    assert.equal(await metricValue(registry, 'meshfed_gateway_upstream_connect_failures_total', { service: echoSni }), hung.length);
    assert.ok(Date.now() - started >= 200 * hung.length, 'each abandoned attempt waited for the connect timeout');
  } finally {
    await gw.drain(100); await echo.close();
  }
});

for (const transport of TRANSPORTS) test(`[${transport.name}] a connection that moves no byte for the idle timeout is closed and counted; one that keeps talking stays`, async () => {
  const echo = await tlsEndpoint('echo');
  const { gw, port, registry } = await startGateway(transport, new Map([[echoSni, [{ address: '127.0.0.1', port: echo.port, healthy: true }]]]), 500, 400);
  const open = (): Promise<tls.TLSSocket> => new Promise((resolve, reject) => {
    const c = tls.connect({ host: '127.0.0.1', port, servername: echoSni, ca: creds.cert, checkServerIdentity: () => undefined }, () => resolve(c));
    c.once('error', reject);
  });
  const say = (c: tls.TLSSocket, msg: string) => new Promise<string>((resolve) => { c.once('data', (d: Buffer) => resolve(d.toString())); c.write(msg); });
  try {
    const quiet = await open();
    const talking = await open();
    assert.equal(await say(quiet, 'q'), 'echo:q');
    const t0 = Date.now();
    const quietClosed = new Promise<number>((r) => quiet.once('close', () => r(Date.now() - t0)));
    quiet.on('error', () => {});
    let answers = 0;
    while (Date.now() - t0 < 1200) { // three idle timeouts, a message every 100 ms
      assert.equal(await say(talking, `t${answers}`), `echo:t${answers}`);
      answers++;
      await new Promise((r) => setTimeout(r, 100));
    }
    const after = await Promise.race([quietClosed, new Promise<number>((r) => setTimeout(() => r(-1), 2000))]);
    assert.ok(after >= 350 && after < 1200, `the quiet connection closed ${after} ms after its last byte (timeout 400 ms, sweep every 100)`);
    assert.equal(talking.destroyed, false, 'the talking one is still open');
    assert.equal(await metricValue(registry, 'meshfed_gateway_idle_timeouts_total', { service: echoSni }), 1);
    talking.destroy();
  } finally {
    await gw.drain(100); await echo.close();
  }
});

test('the gateway is not ready on an empty configuration, only once it has a service to route to, and not while draining', async () => {
  const gw = new Gateway({ host: '127.0.0.1', port: 0, registry: newRegistry(), log: createLogger('t') });
  await gw.listen();
  assert.equal(gw.ready, false);
  gw.setEndpoints(new Map());
  assert.equal(gw.ready, false, 'an xDS answer without clusters is not a config to serve');
  gw.setEndpoints(new Map([[gatewaySni('a.b.svc.cluster.local', 80), [{ address: '127.0.0.1', port: 1, healthy: true }]]]));
  assert.equal(gw.ready, true);
  await gw.drain(10);
  assert.equal(gw.ready, false);
});
