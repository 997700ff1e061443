// Leader takeover after kill -9: three candidate processes on one Lease in an API stand-in; the leader is killed
// (no release, as a crash or a lost node), and the time until another replica holds the Lease is measured at the
// stand-in, KILLS times (the killed one is replaced by a fresh candidate each time). client-go's timing by default
// (lease 15 s, renew deadline 10 s, retry 2 s); BENCH_LEASE="4s,3s,500ms" for a shorter run.
import { standinTls } from '../src/playground/standinTls.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApiServer, kubeconfigFor } from '../src/devcluster/index.ts';
import { parseDuration } from '../src/controlplane/leaderElectionFlags.ts';
import { percentile } from '../src/playground/failoverStats.ts';

const KILLS = Number(process.env.BENCH_TAKEOVER_KILLS ?? 10);
const [lease, renew, retry] = (process.env.BENCH_LEASE ?? '15s,10s,2s').split(',').map((d, i) => parseDuration(['lease', 'renew', 'retry'][i]!, d.trim())) as [number, number, number];
const log = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const candidate = fileURLToPath(new URL('./fixtures/leaseCandidate.ts', import.meta.url));

const server = await startApiServer({ name: 'takeover', tls: standinTls('takeover') });
server.store.create(server.store.info('', 'namespaces'), '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'meshfed-system' } });
const file = join(mkdtempSync(join(tmpdir(), 'meshfed-bench-takeover-')), 'kubeconfig');
writeFileSync(file, kubeconfigFor([server]));
const leaseInfo = server.store.info('coordination.k8s.io', 'leases');
const holder = (): string => { try { return String((server.store.get(leaseInfo, 'meshfed-system', 'meshfed-control-plane').spec as { holderIdentity?: string }).holderIdentity ?? ''); } catch { return ''; } };

const running = new Map<string, ChildProcess>();
let n = 0;
async function spawnCandidate(): Promise<void> {
  const id = `c${++n}`;
  const child = spawn(process.execPath, ['--import', 'tsx', candidate, file, id, String(lease), String(renew), String(retry)], { stdio: ['ignore', 'pipe', 'inherit'] });
  running.set(id, child);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => { out += d; if (out.includes('started')) resolve(); });
    child.once('exit', (c) => reject(new Error(`candidate ${id} exited ${c}`)));
  });
}

const takeovers: number[] = [];
try {
  for (let i = 0; i < 3; i++) await spawnCandidate();
  for (let k = 0; k < KILLS; k++) {
    let leader = holder();
    while (!running.has(leader)) { await sleep(10); leader = holder(); }
    // kill at a random point of the renew cycle
    await sleep(Math.random() * retry);
    const child = running.get(leader)!;
    child.kill('SIGKILL');
    const t0 = performance.now();
    running.delete(leader);
    while (holder() === leader) await sleep(5);
    const ms = performance.now() - t0;
    takeovers.push(ms);
    log(`kill ${k + 1}/${KILLS}: ${leader} killed, ${holder()} took over after ${Math.round(ms)} ms`);
    await spawnCandidate();
  }
} finally {
  for (const c of running.values()) c.kill('SIGTERM');
  await server.close();
}
const sorted = [...takeovers].sort((a, b) => a - b);
process.stdout.write(JSON.stringify({
  leaseDurationS: lease / 1000, renewDeadlineS: renew / 1000, retryPeriodS: retry / 1000, kills: KILLS,
  takeoverMs: { p50: Math.round(percentile(sorted, 50)), max: Math.round(sorted.at(-1) ?? 0), all: takeovers.map(Math.round) },
  boundMs: lease + retry,
}) + '\n');
