// The admin server (15014: /debug/*, /metrics, the dashboard) has no authentication. `meshfed control-plane` keeps
// it on loopback on a workstation, opens it inside a pod (kubelet probes and Prometheus come through the pod IP),
// and --admin-address says where otherwise. xDS keeps --host. Seen from another local address (127.0.0.2): a
// loopback-only listener refuses it, a 0.0.0.0 one accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSecureApiServer } from '../../src/devcluster/secure.ts';
import { kubeconfigFor } from '../../src/devcluster/server.ts';
import { MESHFED_BIN } from '../helpers/meshfed.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port }, () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

async function controlPlane(kubeconfig: string, extra: string[], env: NodeJS.ProcessEnv): Promise<{ ports: { xds: number; admin: number }; err: () => string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [MESHFED_BIN, 'control-plane', '--kubeconfig', kubeconfig, '--host', '0.0.0.0', '--xds-port', '0', '--secure-port', '0', '--admin-port', '0', ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const stop = async () => { if (child.exitCode === null) { child.kill('SIGTERM'); await new Promise((r) => child.once('exit', r)); } };
  const deadline = Date.now() + 150_000;
  while (!out.includes('"admin"')) {
    if (Date.now() > deadline || child.exitCode !== null) { await stop(); throw new Error(`control plane did not start: ${out}\n${err.slice(-2000)}`); }
    await sleep(100);
  }
  return { ports: JSON.parse(out.trim().split('\n')[0]!) as { xds: number; admin: number }, err: () => err, stop };
}

test('control plane admin server: loopback outside a pod, every address inside one (KUBERNETES_SERVICE_HOST) or with --admin-address 0.0.0.0; xDS stays on --host', { timeout: 300_000 }, async () => {
  const server = await startSecureApiServer({ name: 'cp', serviceCidr: '10.81.0.0/16' });
  const file = join(mkdtempSync(join(tmpdir(), 'meshfed-admin-')), 'kubeconfig');
  writeFileSync(file, kubeconfigFor([server]));
  const { KUBERNETES_SERVICE_HOST: _drop, ...outside } = process.env;
  const started = await Promise.allSettled([
    controlPlane(file, [], outside),
    controlPlane(file, [], { ...outside, KUBERNETES_SERVICE_HOST: '10.96.0.1' }),
    controlPlane(file, ['--admin-address', '0.0.0.0'], outside),
  ]);
  const cps = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  try {
    for (const r of started) if (r.status === 'rejected') throw r.reason;
    const [workstation, pod, opened] = cps as [typeof cps[0], typeof cps[0], typeof cps[0]];
    assert.equal(await reachable('127.0.0.1', workstation.ports.admin), true, 'the admin server answers on loopback');
    assert.equal(await reachable('127.0.0.2', workstation.ports.admin), false, 'outside a pod, the admin server is not on every address');
    assert.match(workstation.err(), /admin on http:\/\/127\.0\.0\.1:/);
    assert.equal(await reachable('127.0.0.2', workstation.ports.xds), true, 'xDS keeps --host 0.0.0.0');
    assert.equal(await reachable('127.0.0.2', pod.ports.admin), true, 'inside a pod, probes and scrapes reach it on the pod IP');
    assert.equal(await reachable('127.0.0.2', opened.ports.admin), true, '--admin-address 0.0.0.0 opens it');
  } finally {
    await Promise.all(cps.map((c) => c.stop()));
    await server.close();
  }
});
