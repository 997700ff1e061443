// A sidecar process started before its control plane: it waits (503 with the reason, one log line per state
// change, no crash), then becomes ready once the CA and pilot come up on the addresses it was given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { initCa, loadCaDir } from '../../src/ca/files.ts';
import { Signer } from '../../src/ca/signer.ts';
import { CaServer } from '../../src/ca/server.ts';
import { Pilot } from '../../src/pilot/server.ts';
import { emptySnapshot } from '../../src/mesh/types.ts';
import { MESHFED_BIN } from '../helpers/meshfed.ts';
import { until } from './fixtures/mesh.ts';

const freePort = (): Promise<number> => new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readiness(port: number): Promise<{ status: number; body: string } | undefined> {
  const r = await fetch(`http://127.0.0.1:${port}/healthz/ready`).catch(() => undefined);
  return r ? { status: r.status, body: await r.text() } : undefined;
}

test('a sidecar started before the CA and pilot waits, not ready, without crashing, then serves within 2 s of each coming up', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sidecar-early-'));
  initCa({ out: dir, clusters: ['c1'] });
  const caDir = loadCaDir(join(dir, 'c1'));
  writeFileSync(join(dir, 'root.pem'), caDir.rootCertPem);
  writeFileSync(join(dir, 'token'), 'tok:demo:a\n');
  const [xdsPort, caPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const child = spawn(process.execPath, [MESHFED_BIN, 'sidecar', '--xds', `127.0.0.1:${xdsPort}`, '--ca', `localhost:${caPort}`, '--ca-cert', join(dir, 'root.pem'),
    '--token-file', join(dir, 'token'), '--cluster', 'c1', '--namespace', 'demo', '--service-account', 'a', '--app-port', '9',
    '--outbound', '127.0.0.1:0', '--inbound', '127.0.0.1:0', '--metrics', `127.0.0.1:${metricsPort}`], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MESHFED_LOG_LEVEL: 'info' } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  let caServer: CaServer | undefined;
  let pilot: Pilot | undefined;
  try {
    const waiting = await until('the sidecar answers readiness', () => readiness(metricsPort), 30_000);
    assert.equal(waiting.status, 503);
    assert.match(waiting.body, /no workload certificate yet/);
    await sleep(4000); // several retries: the backoff reaches its cap
    assert.equal(child.exitCode, null, `the sidecar exited while the control plane was down:\n${err}`);
    assert.equal((await readiness(metricsPort))!.status, 503);
    const lines = err.split('\n').filter((l) => l.includes('cannot get a workload certificate yet'));
    assert.equal(lines.length, 1, `one log line for the CA being down, not one per retry:\n${err}`);
    assert.doesNotMatch(err, /CaRequestError|at .*\.ts:\d+/, 'no stack trace');

    caServer = new CaServer({ signer: new Signer(caDir), reviewer: { review: async (_c, t) => (t === 'tok:demo:a' ? { namespace: 'demo', serviceAccount: 'a' } : { reason: 'bad token' }) }, trustDomain: 'cluster.local', registry: new Registry(), dnsNames: ['localhost'] });
    await caServer.start(caPort, '127.0.0.1');
    const caUp = performance.now();
    const noConfig = await until('certificate issued, still waiting for xDS', async () => {
      const r = await readiness(metricsPort);
      return r && /no xDS configuration yet/.test(r.body) ? r : undefined;
    }, 30_000);
    const certifiedAfterMs = performance.now() - caUp;
    assert.equal(noConfig.status, 503);
    pilot = new Pilot({ port: xdsPort, host: '127.0.0.1', debounceMs: 1 });
    pilot.setSnapshot(emptySnapshot({ version: 1, builtAt: new Date().toISOString() }));
    await pilot.start();
    const pilotUp = performance.now();
    await until('ready once pilot serves', async () => ((await readiness(metricsPort))?.status === 200 ? true : undefined), 30_000);
    const readyAfterMs = performance.now() - pilotUp;
    // the contract: ready within 2 s of the control plane coming up, after retrying long enough for the
    // backoff to reach its cap (1 s before the first certificate and configuration; readiness is polled every 100 ms)
    assert.ok(certifiedAfterMs <= 2000, `certificate ${Math.round(certifiedAfterMs)} ms after the CA came up`);
    assert.ok(readyAfterMs <= 2000, `ready ${Math.round(readyAfterMs)} ms after pilot came up`);
    assert.match(out, /"spiffeId":"spiffe:\/\/cluster.local\/ns\/demo\/sa\/a"/);
    assert.match(err, /workload certificate issued after retries/);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await pilot?.stop();
    await caServer?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
