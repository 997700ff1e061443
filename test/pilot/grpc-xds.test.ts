// End to end: real @grpc/grpc-js-xds clients (one child process per node) against pilot and real echo servers.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { emptySnapshot, type Endpoint, type MeshSnapshot } from '../../src/mesh/types.ts';
import { Pilot } from '../../src/pilot/server.ts';
import { startEcho } from './fixtures/echo.ts';
import { proxylessBootstrap } from '../../src/xds/bootstrap.ts';

const CHILD = fileURLToPath(new URL('./fixtures/xds-client.ts', import.meta.url));

interface Line { id?: string; error?: string }

function startClient(xdsPort: number): { child: ChildProcess; lines: Line[] } {
  // the bootstrap `meshfed proxyless-bootstrap` prints
  const bootstrap = proxylessBootstrap({ xds: `127.0.0.1:${xdsPort}`, nodeId: 'e2e-client', cluster: 'c1', network: 'n1', region: 'r1', zone: 'z1' });
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(bootstrap), TARGET: 'xds:///echo.demo.svc.cluster.local:50051' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: Line[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(JSON.parse(l) as Line));
  return { child, lines };
}

/** Waits (bounded) until the last `n` calls all went to `id`. */
async function until(lines: Line[], id: string, n = 5, timeoutMs = 15000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const tail = lines.slice(-n);
    if (tail.length === n && tail.every((l) => l.id === id)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`calls did not settle on ${id}; last: ${JSON.stringify(lines.slice(-n))}`);
}

test('grpc-js-xds client follows locality failover and recovery with no failed calls', { timeout: 150_000 }, async () => {
  const servers: grpc.Server[] = [];
  const eps: Endpoint[] = [];
  const places: [string, string, string][] = [['127.0.0.2', 'r1', 'z1'], ['127.0.0.3', 'r1', 'z2'], ['127.0.0.4', 'r2', 'z1']];
  for (const [ip, region, zone] of places) {
    const e = await startEcho(ip, `${region}/${zone}`);
    servers.push(e.server);
    eps.push({ cluster: 'c1', network: 'n1', locality: { region, zone, subZone: '' }, address: ip, ports: { grpc: e.port }, ready: true, tlsMode: 'disabled', labels: {} });
  }
  let version = 0;
  const snap = (ready: boolean[]): MeshSnapshot =>
    emptySnapshot({
      version: ++version,
      services: new Map([['demo/echo', { namespace: 'demo', name: 'echo', hostname: 'echo.demo.svc.cluster.local', ports: [{ name: 'grpc', port: 50051, protocol: 'TCP' }], clusters: ['c1'], conflicts: [], endpoints: eps.map((e, i) => ({ ...e, ready: ready[i]! })) }]]),
    });
  const pilot = new Pilot({ port: 0, host: '127.0.0.1', debounceMs: 5 });
  pilot.setSnapshot(snap([true, true, true]));
  await pilot.start();
  const { child, lines } = startClient(pilot.port);
  try {
    await until(lines, 'r1/z1', 5, 90_000); // the client is a new process: slow to start on a loaded machine
    pilot.setSnapshot(snap([false, true, true]));
    await until(lines, 'r1/z2');
    pilot.setSnapshot(snap([false, false, true]));
    await until(lines, 'r2/z1');
    pilot.setSnapshot(snap([true, true, true]));
    await until(lines, 'r1/z1');
    assert.deepEqual(lines.filter((l) => l.error), []);
    assert.equal(pilot.syncStatus()[0]?.nodeId, 'e2e-client');
  } finally {
    child.stdin!.end();
    child.kill();
    await pilot.stop();
    for (const s of servers) s.forceShutdown();
  }
});

test('a Listener the grpc-js-xds client rejects is NACKed and the client keeps working on the last good version', { timeout: 150_000 }, async () => {
  const e = await startEcho('127.0.0.5', 'good');
  let broken = false;
  let version = 0;
  const snap = (): MeshSnapshot =>
    emptySnapshot({
      version: ++version,
      services: new Map([['demo/echo', { namespace: 'demo', name: 'echo', hostname: 'echo.demo.svc.cluster.local', ports: [{ name: 'grpc', port: 50051, protocol: 'TCP' }], clusters: ['c1'], conflicts: [], endpoints: [{ cluster: 'c1', network: 'n1', locality: { region: 'r1', zone: 'z1', subZone: '' }, address: '127.0.0.5', ports: { grpc: e.port }, ready: true, tlsMode: 'disabled', labels: {} }] }]]),
    });
  // a client listener without api_listener: grpc-js-xds must reject it
  const pilot = new Pilot({ port: 0, host: '127.0.0.1', debounceMs: 5, override: (type, _name, r) => (broken && type.endsWith('Listener') ? { name: (r as { name?: string }).name } : r) });
  pilot.setSnapshot(snap());
  await pilot.start();
  const { child, lines } = startClient(pilot.port);
  try {
    await until(lines, 'good', 5, 90_000); // the client is a new process: slow to start on a loaded machine
    broken = true;
    pilot.setSnapshot(snap());
    const end = Date.now() + 15000;
    const nack = () => Object.values(pilot.syncStatus()[0]?.types ?? {}).find((t) => t.lastNack);
    while (!nack() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.ok(nack(), 'the client did not NACK the broken listener');
    const st = nack()!;
    assert.notEqual(st.versionAcked, st.versionSent);
    const n = lines.length;
    while (lines.length < n + 10 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.ok(lines.slice(n).every((l) => l.id === 'good'), JSON.stringify(lines.slice(n)));
    assert.deepEqual(lines.filter((l) => l.error), []);
  } finally {
    child.stdin!.end();
    child.kill();
    await pilot.stop();
    e.server.forceShutdown();
  }
});

test('a proxyless client whose control-plane replica dies resumes on the replica behind the same Service address, with no failed call', { timeout: 150_000 }, async () => {
  const servers: grpc.Server[] = [];
  const eps: Endpoint[] = [];
  for (const [ip, region] of [['127.0.0.6', 'r1'], ['127.0.0.7', 'r2']] as const) {
    const e = await startEcho(ip, region);
    servers.push(e.server);
    eps.push({ cluster: 'c1', network: 'n1', locality: { region, zone: 'z1', subZone: '' }, address: ip, ports: { grpc: e.port }, ready: true, tlsMode: 'disabled', labels: {} });
  }
  const snap = (version: number, ready: boolean[]): MeshSnapshot => emptySnapshot({
    version,
    services: new Map([['demo/echo', { namespace: 'demo', name: 'echo', hostname: 'echo.demo.svc.cluster.local', ports: [{ name: 'grpc', port: 50051, protocol: 'TCP' }], clusters: ['c1'], conflicts: [], endpoints: eps.map((e, i) => ({ ...e, ready: ready[i]! })) }]]),
  });
  const first = new Pilot({ port: 0, host: '127.0.0.1', debounceMs: 5 });
  first.setSnapshot(snap(1, [true, true]));
  await first.start();
  const port = first.port;
  const { child, lines } = startClient(port);
  let second: Pilot | undefined;
  try {
    await until(lines, 'r1', 5, 90_000);
    await first.stop();
    // the Service now sends connections to another replica, which knows of a later change (r1 gone)
    const callsWhileDown = lines.length;
    second = new Pilot({ port, host: '127.0.0.1', debounceMs: 5 });
    second.setSnapshot(snap(2, [false, true]));
    await second.start();
    await until(lines, 'r2', 5, 30_000);
    assert.ok(lines.length > callsWhileDown);
    assert.deepEqual(lines.filter((l) => l.error), [], 'no call failed while the replica changed');
    assert.equal(second.syncStatus()[0]?.nodeId, 'e2e-client');
  } finally {
    child.stdin!.end();
    child.kill();
    await second?.stop();
    for (const s of servers) s.forceShutdown();
  }
});
