// A region's workloads are killed while the caller's sidecar holds pooled keep-alive connections to them: the next
// requests are written into connections the peers have already dropped and come back reset, before any answer.
// Such a request is sent again on the next endpoint without spending a retry — with three dead local endpoints a GET
// would otherwise use its three tries on them and fail with a 503 although the remote region is healthy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { startInbound } from '../../src/proxy/sidecarInbound.ts';
import { Outbound } from '../../src/proxy/sidecarOutbound.ts';
import { newRegistry } from '../../src/observe/metrics.ts';
import { createLogger } from '../../src/log.ts';
import { demoPeers } from '../helpers/demoPeers.ts';

const { ca, idB, certA, certB, HOST, sni } = demoPeers();
const log = createLogger('t');

/** A local endpoint's inbound that keeps connections alive; once killed, it drops each pooled connection when the next request arrives on it, and refuses new ones. */
async function killableLocal(name: string): Promise<{ port: number; kill(): Promise<void>; close(): void }> {
  let killed = false;
  const s = https.createServer({ ...certB, ca: ca.root, requestCert: true, keepAlive: true }, (req, res) => {
    if (killed) { req.socket.destroy(); return; }
    // answers take a moment, so concurrent requests each open (and later pool) their own connection
    setTimeout(() => res.end(JSON.stringify({ name })), 50);
  });
  // new connections of a killed endpoint fail (like a refused connect: nothing is sent on them); the listener stays,
  // since closing it would also close the idle pooled connections the test is about
  s.prependListener('connection', (sock: net.Socket) => { if (killed) sock.destroy(); });
  s.keepAliveTimeout = 120_000; // pooled connections stay open until the kill (a busy machine must not time them out first)
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    port: (s.address() as net.AddressInfo).port,
    kill: async () => { killed = true; },
    close: () => { s.closeAllConnections(); s.close(); },
  };
}

function get(proxyPort: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, path: `http://${HOST}:8080/`, agent: false }, (res) => {
      let body = ''; res.on('data', (d) => (body += d)); res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', (e) => resolve({ status: 0, body: e.message }));
    req.end();
  });
}

test('killed local endpoints with pooled connections: GETs go to the remote region, none lost (bounded: 3 endpoints, 30 requests)', { timeout: 60_000 }, async () => {
  const locals = [await killableLocal('l1'), await killableLocal('l2'), await killableLocal('l3')];
  const remoteApp = http.createServer((_q, r) => r.end(JSON.stringify({ name: 'remote' })));
  await new Promise<void>((r) => remoteApp.listen(0, '127.0.0.1', r));
  const remote = await startInbound({ host: '127.0.0.1', port: 0, appPort: (remoteApp.address() as net.AddressInfo).port, ownId: idB, trustDomain: 'cluster.local', destinationService: HOST, tls: { ...certB, ca: ca.root }, registry: newRegistry(), log });
  const out = new Outbound({ host: '127.0.0.1', port: 0, namespace: 'demo', sourceWorkload: 'a', trustDomain: 'cluster.local', tls: { ...certA, ca: ca.root }, registry: newRegistry(), log });
  out.setEndpoints(new Map([[sni, [...locals.map((l) => ({ address: '127.0.0.1', port: l.port, healthy: true, priority: 0 })), { address: '127.0.0.1', port: remote.port, healthy: true, priority: 1 }]]]));
  const port = await out.listen();
  try {
    // warm: 9 requests at once, least-request spreads them: every local endpoint pools several connections
    const served = new Map<string, number>();
    for (let i = 0; i < 3; i++) for (const r of await Promise.all(Array.from({ length: 9 }, () => get(port)))) if (r.status === 200) { const n = (JSON.parse(r.body) as { name: string }).name; served.set(n, (served.get(n) ?? 0) + 1); }
    assert.deepEqual([...served.keys()].sort(), ['l1', 'l2', 'l3'], `each local endpoint served: ${JSON.stringify([...served])}`);

    // killed; then requests one after another: each meets pooled connections of the dead endpoints first
    for (const l of locals) await l.kill();
    const results: Array<{ status: number; body: string }> = [];
    for (let i = 0; i < 30; i++) results.push(await get(port));
    const lost = results.filter((r) => r.status !== 200);
    assert.deepEqual(lost.slice(0, 3), [], `${lost.length} of ${results.length} requests lost`);
    assert.ok(results.every((r) => (JSON.parse(r.body) as { name: string }).name === 'remote'));
  } finally {
    await out.close(); await remote.close(); remoteApp.close();
    for (const l of locals) l.close();
  }
});
