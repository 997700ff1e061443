// Cross-region failover as users run it: a steady load through east-1's sidecar while us-east fails and comes back.
// Shapes (BENCH_FAILOVER_SHAPES, default "processes,playground"):
//   processes  — the deployed shape: control plane, gateways and sidecars each their own `meshfed` process from dist/
//                (bench/fixtures/deployedMesh.ts; rebuild first: npm run build)
//   playground — everything in one process (`meshfed dev up`, src/playground/mesh.ts)
// Modes (BENCH_FAILOVER_MODES, default "region"):
//   region  — exactly what `meshfed dev failover --region us-east` does: the region's echo pods and sidecars, its
//             gateway and its API servers stop answering; `dev restore` brings them back
//   kill    — only us-east's echo pods and sidecars stop (crash / partition); the API still says they are ready
//   unready — us-east's echo pods turn NotReady through the API (federation → pilot → EDS push); playground only
//   (kill in the processes shape SIGKILLs the sidecar processes)
// Each shape × mode runs REPS times (BENCH_FAILOVER_REPS, default 20) on the machine as it is ("quiet") and then with
// one CPU-burning neighbour process (the same one; BENCH_FAILOVER_BUSY=0 skips it).
// Per repetition: failover = first answer from us-west after the failure was started; failback = first answer from
// us-east after the restore was started (restoreOp: how long the restore itself took — in the processes shape mostly
// sidecar process start-up; failbackAfterRestore: from the end of the restore, i.e. the sidecar's own stickiness);
// lost = requests that failed (the load's client gives up after 5 s).
// Progress on stderr, one JSON line on stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTopology } from '../src/mesh/topology.ts';
import { startMeshPlayground } from '../src/playground/mesh.ts';
import { startLoad } from '../src/playground/load.ts';
import { failoverFigures, percentile } from '../src/playground/failoverStats.ts';
import { allDemoPods } from '../src/playground/demo.ts';
import { setPodReady } from '../src/playground/objects.ts';
import { adminKubeConfig } from '../src/devcluster/clientConfig.ts';
import type { CallResult } from '../src/playground/call.ts';
import { startDeployedMesh } from './fixtures/deployedMesh.ts';

const REPS = Number(process.env.BENCH_FAILOVER_REPS ?? 20);
const SHAPES = (process.env.BENCH_FAILOVER_SHAPES ?? 'processes,playground').split(',').filter(Boolean);
const MODES = (process.env.BENCH_FAILOVER_MODES ?? 'region').split(',').filter(Boolean);
const BUSY = process.env.BENCH_FAILOVER_BUSY !== '0';
const CONCURRENCY = Number(process.env.BENCH_FAILOVER_CONCURRENCY ?? 4);
const LOCAL = 'us-east';
const REMOTE = 'us-west';
const log = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const yaml = readFileSync(new URL('../test/playground/topology.yaml', import.meta.url), 'utf8').replaceAll('127.2', '127.4');
const topology = parseTopology(yaml);

interface Harness { call(): Promise<CallResult>; modes: Record<string, { fail(): Promise<void>; heal(): Promise<void> }>; stop(): Promise<void> }

async function playground(): Promise<Harness> {
  const pg = await startMeshPlayground({ topology, stateDir: mkdtempSync(join(tmpdir(), 'meshfed-bench-failover-')), ports: { xds: 0, secure: 0, admin: 0 }, onProgress: (l) => log(`  ${l}`) });
  const echoPods = allDemoPods(topology).filter((p) => p.app === 'echo' && p.region === LOCAL);
  const kc = (cluster: string) => adminKubeConfig(pg.clusters.get(cluster)!);
  return {
    call: () => pg.call('east-1'),
    modes: {
      region: { fail: () => pg.failRegion(LOCAL), heal: () => pg.restoreRegion(LOCAL) },
      kill: { fail: () => pg.stopWorkloads(LOCAL), heal: () => pg.startWorkloads(LOCAL) },
      unready: {
        fail: async () => { await Promise.all(echoPods.map((p) => setPodReady(kc(p.cluster), p, false))); },
        heal: async () => { await Promise.all(echoPods.map((p) => setPodReady(kc(p.cluster), p, true))); },
      },
    },
    stop: () => pg.stop(),
  };
}

async function processes(): Promise<Harness> {
  const m = await startDeployedMesh(yaml, mkdtempSync(join(tmpdir(), 'meshfed-bench-failover-proc-')), (l) => log(`  ${l}`));
  return {
    call: () => m.call('east-1'),
    modes: {
      region: { fail: () => m.failRegion(LOCAL), heal: async () => { m.takeStartups(); await m.restoreRegion(LOCAL); log(`  restore: sidecar processes ${JSON.stringify(m.takeStartups())}`); } },
      kill: { fail: () => m.stopWorkloads(LOCAL), heal: () => m.startWorkloads(LOCAL) },
    },
    stop: () => m.stop(),
  };
}

interface Rep {
  failoverMs?: number; failbackMs?: number; afterRestoreMs?: number; restoreMs: number; failMs: number; lost: number; requests: number; lostWhy: string[];
  /** where the failover time goes: the last local answer after the failure started, and the slowest request around it */
  lastLocalMs?: number; slowestMs: number;
}

async function rep(h: Harness, mode: { fail(): Promise<void>; heal(): Promise<void> }): Promise<Rep> {
  const errors: string[] = [];
  const load = startLoad(async () => { const r = await h.call(); if (!r.ok) errors.push(`${r.status} ${(r.error ?? '').slice(0, 160)}`); return r; }, { count: 1_000_000, maxMs: 150_000, concurrency: CONCURRENCY });
  await sleep(500);
  const failedAt = performance.now();
  await mode.fail();
  const failMs = performance.now() - failedAt;
  for (const end = Date.now() + 20_000; Date.now() < end && load.records.filter((r) => r.doneAt > failedAt && r.region === REMOTE).length < 50;) await sleep(50);
  await sleep(300);
  const healAt = performance.now();
  await mode.heal();
  const restoreMs = performance.now() - healAt;
  for (const end = Date.now() + 90_000; Date.now() < end && load.records.filter((r) => r.sentAt > healAt && r.region === LOCAL).length < 20;) await sleep(50);
  load.stop();
  const records = await load.done;
  const f = failoverFigures(records.filter((r) => r.sentAt < healAt), failedAt, LOCAL);
  const lastLocal = records.filter((r) => r.doneAt >= failedAt && r.sentAt < healAt && r.ok && r.region === LOCAL).sort((a, b) => b.doneAt - a.doneAt)[0];
  const back = records.filter((r) => r.sentAt >= healAt && r.ok && r.region === LOCAL).sort((a, b) => a.doneAt - b.doneAt)[0];
  return {
    ...(f.firstRemoteMs !== undefined ? { failoverMs: f.firstRemoteMs } : {}),
    ...(back ? { failbackMs: back.doneAt - healAt, afterRestoreMs: Math.max(0, back.doneAt - healAt - restoreMs) } : {}),
    restoreMs, failMs, lost: records.filter((r) => !r.ok).length, requests: records.length, lostWhy: [...new Set(errors)].slice(0, 3),
    ...(lastLocal ? { lastLocalMs: lastLocal.doneAt - failedAt } : {}),
    slowestMs: Math.max(0, ...records.filter((r) => r.doneAt >= failedAt && r.sentAt <= failedAt + (f.firstRemoteMs ?? 0)).map((r) => r.doneAt - r.sentAt)),
  };
}

const stats = (xs: number[]) => (xs.length ? { p50: Math.round(percentile(xs, 50)), p99: Math.round(percentile(xs, 99)), max: Math.round(Math.max(...xs)) } : 'none');

function burner(): ChildProcess {
  return spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
}

const results: Record<string, unknown> = {};
for (const shape of SHAPES) {
  const h = shape === 'processes' ? await processes() : await playground();
  try {
    for (const modeName of MODES) {
      const mode = h.modes[modeName];
      if (!mode) { results[`${shape}/${modeName}`] = `mode ${modeName} is not available in the ${shape} shape`; continue; }
      for (const load of BUSY ? ['quiet', 'busy'] : ['quiet']) {
        const neighbour = load === 'busy' ? burner() : undefined;
        const reps: Rep[] = [];
        try {
          for (let i = 0; i < REPS; i++) {
            const r = await rep(h, mode);
            reps.push(r);
            log(`${shape}/${modeName}/${load} #${i + 1}: failover ${r.failoverMs?.toFixed(0)} ms (fail op ${r.failMs.toFixed(0)} ms, last local ${r.lastLocalMs?.toFixed(0)} ms, slowest request ${r.slowestMs.toFixed(0)} ms), failback ${r.failbackMs?.toFixed(0)} ms (restore op ${r.restoreMs.toFixed(0)} ms, then ${r.afterRestoreMs?.toFixed(0)} ms), lost ${r.lost}/${r.requests}${r.lostWhy.length ? ` ${JSON.stringify(r.lostWhy)}` : ''} [load ${loadavg()[0]!.toFixed(1)}]`);
          }
        } finally {
          neighbour?.kill('SIGKILL');
        }
        results[`${shape}/${modeName}/${load}`] = {
          reps: reps.length,
          failoverMs: stats(reps.flatMap((r) => (r.failoverMs !== undefined ? [r.failoverMs] : []))),
          failbackMs: stats(reps.flatMap((r) => (r.failbackMs !== undefined ? [r.failbackMs] : []))),
          restoreOpMs: stats(reps.map((r) => r.restoreMs)),
          failbackAfterRestoreMs: stats(reps.flatMap((r) => (r.afterRestoreMs !== undefined ? [r.afterRestoreMs] : []))),
          failOpMs: stats(reps.map((r) => r.failMs)),
          lastLocalMs: stats(reps.flatMap((r) => (r.lastLocalMs !== undefined ? [r.lastLocalMs] : []))),
          slowestRequestMs: stats(reps.map((r) => r.slowestMs)),
          requests: reps.reduce((s, r) => s + r.requests, 0),
          lost: reps.reduce((s, r) => s + r.lost, 0),
          noFailover: reps.filter((r) => r.failoverMs === undefined).length,
          noFailback: reps.filter((r) => r.failbackMs === undefined).length,
          loadavg1: +loadavg()[0]!.toFixed(1),
        };
      }
    }
  } finally {
    await h.stop();
  }
}
console.log(JSON.stringify({ target: { failoverP99Ms: 1000, failoverBusyP99Ms: 1500, failbackP99Ms: 5000, lost: 0 }, concurrency: CONCURRENCY, ...results }));
