// `meshfed gateway --workers 2` as a process: both workers take connections on one port, the primary's readiness waits
// for both and its /stats/prometheus sums their counters; a killed worker is replaced; SIGTERM stops everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { TestAds } from '../helpers/adsServer.ts';
import { TYPE_URL } from '../../src/xds/protos.ts';
import { gatewaySni } from '../../src/mesh/names.ts';
import { MESHFED_BIN } from '../helpers/meshfed.ts';
import { until } from './fixtures/mesh.ts';

const SNI = gatewaySni('w.demo.svc.cluster.local', 8080);

function childPids(pid: number): number[] {
  try { return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number); } catch { return []; }
}

test('gateway --workers 2: one port, two accepting processes, readiness and summed metrics from the primary, a dead worker replaced', { timeout: 120_000 }, async () => {
  // a backend that answers any bytes with "ok" (the gateway splices without looking past the ClientHello)
  const backend = net.createServer((s) => { s.once('data', () => s.end('ok')); s.on('error', () => {}); });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  const ads = new TestAds();
  const xds = await ads.start();
  ads.set(TYPE_URL.cluster, '1', [{ name: SNI, type: 'EDS' }]);
  ads.set(TYPE_URL.endpoint, '1', [{ cluster_name: SNI, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: (backend.address() as net.AddressInfo).port } } } }] }] }]);
  const gw = spawn(process.execPath, [MESHFED_BIN, 'gateway', '--xds', xds, '--network', 'n', '--region', 'r', '--listen', '127.0.0.1:0', '--health', '127.0.0.1:0', '--metrics', '127.0.0.1:0', '--workers', '2', '--drain-ms', '200'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  gw.stdout.on('data', (d) => (out += d));
  gw.stderr.on('data', (d) => (err += d));
  try {
    const ports = await until('the primary prints its ports', async () => (out.includes('\n') ? JSON.parse(out.split('\n')[0]!) as { listen: number; health: number; metrics: number; workers: number } : undefined), 60_000);
    assert.equal(ports.workers, 2);
    await until('ready: both workers have their configuration', async () => ((await fetch(`http://127.0.0.1:${ports.health}/healthz/ready`)).status === 200 ? true : undefined), 60_000);
    assert.equal(childPids(gw.pid!).length, 2, 'two worker processes');
    const N = 40;
    for (let i = 0; i < N; i++) {
      // a ClientHello with the service's SNI; the backend is not TLS, so the handshake ends in an error: the gateway
      // routed the connection all the same, which is what its counter says
      await new Promise<void>((resolve) => {
        const s = tls.connect({ host: '127.0.0.1', port: ports.listen, servername: SNI, rejectUnauthorized: false });
        const done = () => { clearTimeout(t); s.destroy(); resolve(); };
        const t = setTimeout(done, 5000);
        s.on('error', done);
        s.on('close', done);
      });
    }
    // every connection was counted by one of the workers; the primary sums them
    const text = await (await fetch(`http://127.0.0.1:${ports.metrics}/stats/prometheus`)).text();
    const conns = text.split('\n').filter((l) => l.startsWith('meshfed_gateway_connections_total')).reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    assert.ok(conns >= N, `summed connections ${conns} ≥ ${N}:\n${text.slice(0, 2000)}`);
    // a worker that dies is replaced, and readiness comes back
    const [victim] = childPids(gw.pid!);
    process.kill(victim!, 'SIGKILL');
    await until('a new worker replaces the killed one', async () => { const now = childPids(gw.pid!); return now.length === 2 && !now.includes(victim!) ? true : undefined; }, 30_000);
    await until('ready again', async () => ((await fetch(`http://127.0.0.1:${ports.health}/healthz/ready`)).status === 200 ? true : undefined), 60_000);
  } finally {
    const exited = new Promise((r) => gw.once('exit', r));
    gw.kill('SIGTERM');
    await exited;
    ads.stop();
    backend.close();
  }
  assert.equal(gw.exitCode, 0, err.slice(-2000));
});
