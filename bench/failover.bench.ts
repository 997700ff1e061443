// Cross-region failover on the in-process playground (3 stand-in clusters, control plane, gateways, meshed echo),
// repeated REPS times for two kinds of failure, side by side in one run:
//   kill    — us-east's echo pods and sidecars stop answering (crash / partition): the data plane must fail over
//             on its own (connect errors → retry on the next priority, outlier ejection);
//   unready — us-east's echo pods turn NotReady through the API (what a kubelet reports): federation → pilot → EDS
//             push → the client's sidecar moves. This is the control-plane path and the baseline.
// Figures: time from the failure to the first request served by us-west (p50/max) and to steady state, requests lost.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parseTopology } from '../src/mesh/topology.ts';
import { startMeshPlayground } from '../src/playground/mesh.ts';
import { startLoad } from '../src/playground/load.ts';
import { failoverFigures, percentile } from '../src/playground/failoverStats.ts';
import { allDemoPods } from '../src/playground/demo.ts';
import { setPodReady } from '../src/playground/objects.ts';
import { adminKubeConfig } from '../src/devcluster/clientConfig.ts';

const REPS = Number(process.env.BENCH_FAILOVER_REPS ?? 10);
const LOCAL = 'us-east';
const log = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const topology = parseTopology(readFileSync(new URL('../test/playground/topology.yaml', import.meta.url), 'utf8').replaceAll('127.2', '127.4'));

const pg = await startMeshPlayground({ topology, stateDir: mkdtempSync(join(tmpdir(), 'meshfed-bench-failover-')), ports: { xds: 0, secure: 0, admin: 0 }, onProgress: (l) => log(`  ${l}`) });
const echoPods = allDemoPods(topology).filter((p) => p.app === 'echo' && p.region === LOCAL);
const kcOf = (cluster: string): k8s.KubeConfig => adminKubeConfig(pg.clusters.get(cluster)!);
const modes = {
  kill: { fail: () => pg.stopWorkloads(LOCAL), heal: () => pg.startWorkloads(LOCAL) },
  unready: {
    fail: async () => { await Promise.all(echoPods.map((p) => setPodReady(kcOf(p.cluster), p, false))); },
    heal: async () => { await Promise.all(echoPods.map((p) => setPodReady(kcOf(p.cluster), p, true))); },
  },
};

const results: Record<string, unknown> = {};
try {
  for (const [mode, m] of Object.entries(modes)) {
    const first: number[] = [];
    const steady: number[] = [];
    let lost = 0;
    let requests = 0;
    for (let i = 0; i < REPS; i++) {
      const load = startLoad(() => pg.call('east-1'), { count: 5000, maxMs: 30_000, concurrency: 4 });
      await sleep(500);
      const failedAt = performance.now();
      await m.fail();
      const until = Date.now() + 15_000;
      while (Date.now() < until && load.records.filter((r) => r.doneAt > failedAt && r.region === 'us-west').length < 50) await sleep(50);
      load.stop();
      const records = await load.done;
      const f = failoverFigures(records, failedAt, LOCAL);
      requests += f.requests;
      lost += f.failed;
      if (f.firstRemoteMs !== undefined) first.push(f.firstRemoteMs);
      if (f.steadyMs !== undefined) steady.push(f.steadyMs);
      log(`${mode} #${i + 1}: first remote ${f.firstRemoteMs?.toFixed(0)} ms, steady ${f.steadyMs?.toFixed(0)} ms, lost ${f.failed}/${f.requests}`);
      await m.heal();
      const back = Date.now() + 30_000;
      while (Date.now() < back && (await pg.call('east-1')).reply?.region !== LOCAL) await sleep(100);
    }
    results[mode] = {
      reps: REPS, requests, lost,
      firstRemoteMs: { p50: Math.round(percentile(first, 50)), max: Math.round(Math.max(...first)) },
      steadyMs: { p50: Math.round(percentile(steady, 50)), max: Math.round(Math.max(...steady)) },
      failedToFailOver: REPS - first.length,
    };
  }
} finally {
  await pg.stop();
}
console.log(JSON.stringify({ target: { failoverMs: 1000, lost: 0 }, ...results }));
