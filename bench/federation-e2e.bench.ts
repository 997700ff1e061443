// Federation end to end: 5 API stand-ins (in a child process, so the RSS below is federation's own) with 1,000
// services × 3 endpoints each. Measures: registration of 4 remotes, initial sync to a complete snapshot, finished
// replication (every cluster holds every other cluster's services), peak RSS, and change → snapshot latency
// (an EndpointSlice write in one cluster → the new snapshot) — side by side with the baseline of the same write
// seen by a bare client-node informer on that cluster (the watch path's floor).
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import * as k8s from '@kubernetes/client-node';
import { Federation } from '../src/federation/federation.ts';
import { registerCluster } from '../src/federation/register.ts';
import { EventBus } from '../src/observe/events.ts';
import { newRegistry } from '../src/observe/metrics.ts';
import { percentile } from '../src/devcluster/playground/failoverStats.ts';
import { Session } from 'node:inspector/promises';
import { spawnSync } from 'node:child_process';
import { CONTROL_PLANE_NODE_FLAGS } from '../src/deploy/nodeFlags.ts';

// Measured with the V8 settings the control-plane container runs with (the node flags of its deploy manifest);
// BENCH_FED_NODE_FLAGS overrides them (space-separated; '' = node's defaults). The bench re-runs itself once with them.
const nodeFlags = process.env.BENCH_FED_NODE_FLAGS !== undefined ? process.env.BENCH_FED_NODE_FLAGS.split(' ').filter(Boolean) : [...CONTROL_PLANE_NODE_FLAGS];
if (process.env.BENCH_FED_CHILD !== '1') {
  const r = spawnSync(process.execPath, [...nodeFlags, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, BENCH_FED_CHILD: '1' } });
  process.exit(r.status ?? 1);
}

const CLUSTERS = Number(process.env.BENCH_FED_CLUSTERS ?? 5);
const SERVICES = Number(process.env.BENCH_FED_SERVICES ?? 1000);
const EPS = 3;
// at most SERVICES: change i flips the readiness of service i (a later round would re-apply the same value)
const CHANGES = Math.min(Number(process.env.BENCH_FED_CHANGES ?? 300), SERVICES);
const log = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'meshfed-bench-fed-'));
const child = spawn(process.execPath, ['--import', 'tsx', new URL('./fixtures/standins.ts', import.meta.url).pathname, String(CLUSTERS), String(SERVICES), String(EPS), join(dir, 'kubeconfig')], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_ENV: 'test' } });
const ready = await new Promise<{ kubeconfig: string; clusters: string[] }>((resolve, reject) => {
  createInterface(child.stdout).on('line', (l) => { try { resolve(JSON.parse(l)); } catch { /* progress */ } });
  child.once('exit', (c) => reject(new Error(`stand-ins exited ${c}`)));
});
const kcFor = (ctx: string): k8s.KubeConfig => { const kc = new k8s.KubeConfig(); kc.loadFromFile(ready.kubeconfig); kc.setCurrentContext(ctx); return kc; };

let peakRss = 0;
let phasePeak = 0;
let atPeak: NodeJS.MemoryUsage | undefined;
const rssTimer = setInterval(() => {
  const m = process.memoryUsage();
  if (m.rss > peakRss) { peakRss = m.rss; atPeak = m; }
  phasePeak = Math.max(phasePeak, m.rss);
}, 50);
// peak RSS of the phase that just ended, and the live heap after a full GC (run.ts passes --expose-gc)
const phaseMemory = (): { peakRssMB: number; heapAfterGcMB?: number } => {
  const out: { peakRssMB: number; heapAfterGcMB?: number } = { peakRssMB: Math.round(Math.max(phasePeak, process.memoryUsage().rss) / 1e6) };
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) { gc(); out.heapAfterGcMB = Math.round(process.memoryUsage().heapUsed / 1e6); }
  phasePeak = 0;
  return out;
};
const result: Record<string, unknown> = { nodeFlags: process.execArgv.filter((a) => !a.startsWith('--import') && a !== 'tsx'), clusters: CLUSTERS, services: CLUSTERS * SERVICES, endpoints: CLUSTERS * SERVICES * EPS };
const cp = kcFor('c0');
let fed: Federation | undefined;
try {
  let t = performance.now();
  for (const c of ready.clusters.slice(1)) await registerCluster({ remote: kcFor(c), name: c, controlPlane: cp });
  result.registerMs = Math.round(performance.now() - t);
  log(`registered ${CLUSTERS - 1} remotes in ${result.registerMs} ms`);

  const registry = newRegistry();
  fed = new Federation({ kubeConfig: cp, local: { name: 'c0', network: 'net0', region: 'r0' }, registry, events: new EventBus(), ...(process.env.BENCH_FED_COALESCE_MS ? { coalesceMs: Number(process.env.BENCH_FED_COALESCE_MS) } : {}) });
  t = performance.now();
  await fed.start();
  const endpoints = () => [...fed!.snapshot().services.values()].reduce((n, s) => n + s.endpoints.length, 0);
  while (fed.snapshot().services.size < CLUSTERS * SERVICES || endpoints() < CLUSTERS * SERVICES * EPS) await sleep(10);
  result.initialSyncMs = Math.round(performance.now() - t);
  log(`complete snapshot after ${result.initialSyncMs} ms`);
  const memory: Record<string, unknown> = { initialSync: phaseMemory() };
  // BENCH_FED_SYNC_ONLY=1: stop after the initial sync (quick A/B of the sync path)
  if (process.env.BENCH_FED_SYNC_ONLY) throw Object.assign(new Error('sync only'), { syncOnly: true, memory });
  // BENCH_FED_HEAPPROF=file.heapprofile: sampled allocations of the replication phase that survived a scavenge
  // (promoted to old space: what makes the heap, and RSS, grow)
  const heapProf = process.env.BENCH_FED_HEAPPROF ? new Session() : undefined;
  if (heapProf) { heapProf.connect(); await heapProf.post('HeapProfiler.enable'); await heapProf.post('HeapProfiler.startSampling', { samplingInterval: 65536, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: false } as never); }
  const writes = async () => (await registry.getSingleMetric('meshfed_replication_writes_total')!.get()).values.reduce((n, v) => n + v.value, 0);
  const want = CLUSTERS * (CLUSTERS - 1) * SERVICES;
  for (let last = -1; ;) {
    const w = await writes();
    if (w >= want) break;
    if (w !== last) { log(`replication: ${w}/${want} writes, rss ${Math.round(process.memoryUsage().rss / 1e6)} MB heap ${Math.round(process.memoryUsage().heapUsed / 1e6)} MB`); last = w; }
    if (performance.now() - t > 600_000) throw new Error('replication did not finish in 10 minutes');
    await sleep(200);
  }
  result.replicationDoneMs = Math.round(performance.now() - t);
  result.replicationWrites = await writes();
  // snapshot rebuilds so far (the merge histogram's count)
  result.rebuilds = (await registry.getSingleMetric('meshfed_federation_merge_seconds')!.get()).values.find((v) => String((v as { metricName?: string }).metricName).endsWith("_count"))?.value;
  log(`replication finished after ${result.replicationDoneMs} ms`);
  await sleep(3000);
  result.steadyStateWritesIn3s = (await writes()) - (result.replicationWrites as number);
  if (heapProf) {
    const { profile: hp } = await heapProf.post('HeapProfiler.stopSampling');
    writeFileSync(process.env.BENCH_FED_HEAPPROF!, JSON.stringify(hp));
    heapProf.disconnect();
  }
  memory.replication = phaseMemory();
  log(`memory: ${JSON.stringify(memory)}`);

  // change → snapshot, and the informer floor for the same writes
  const kc1 = kcFor('c1');
  const discovery = kc1.makeApiClient(k8s.DiscoveryV1Api);
  const floor = k8s.makeInformer(kc1, '/apis/discovery.k8s.io/v1/endpointslices', () => discovery.listEndpointSliceForAllNamespaces());
  let seen: ((name: string) => void) | undefined;
  floor.on('update', (o) => seen?.(o.metadata?.name ?? ''));
  await floor.start();
  const lat: number[] = [];
  const base: number[] = [];
  // per change, federation's time beyond the floor's (both watch the same write): federation's own share
  const over: number[] = [];
  // BENCH_FED_PROFILE=file.cpuprofile: CPU profile of the change phase only
  const profile = process.env.BENCH_FED_PROFILE ? new Session() : undefined;
  if (profile) { profile.connect(); await profile.post('Profiler.enable'); await profile.post('Profiler.start'); }
  for (let i = 0; i < CHANGES; i++) {
    const s = i % SERVICES;
    const ns = `ns${s % 10}`;
    const name = `svc-1-${s}`;
    const ready = i % 2 === 1;
    const t0 = performance.now();
    const [nFed, nBase] = [lat.length, base.length];
    const inFed = new Promise<void>((resolve) => {
      const off = fed!.onSnapshot((snap) => {
        // the patched endpoint is the slice's first, pod `${name}-0` (the merge orders endpoints by address)
        const ep = snap.services.get(`${ns}/${name}`)?.endpoints.find((e) => e.podName === `${name}-0`);
        if (ep && ep.ready === ready) { off(); lat.push(performance.now() - t0); resolve(); }
      });
    });
    const inFloor = new Promise<void>((resolve) => { seen = (n) => { if (n === `${name}-1`) { base.push(performance.now() - t0); resolve(); } }; });
    await discovery.patchNamespacedEndpointSlice({ name: `${name}-1`, namespace: ns, body: [{ op: 'replace', path: '/endpoints/0/conditions/ready', value: ready }] }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch));
    await Promise.race([Promise.all([inFed, inFloor]), sleep(5000)]);
    if (lat.length > nFed && base.length > nBase) over.push(lat[nFed]! - base[nBase]!);
    if (lat.length === nFed) log(`change ${i} (${ns}/${name} ready=${ready}) not in a snapshot within 5 s${base.length > nBase ? ' (the bare informer saw it)' : ''}`);
  }
  await floor.stop();
  if (profile) {
    const { profile: p } = await profile.post('Profiler.stop');
    writeFileSync(process.env.BENCH_FED_PROFILE!, JSON.stringify(p));
    profile.disconnect();
  }
  memory.changes = phaseMemory();
  result.memory = memory;
  result.changeToSnapshotMs = { p50: +percentile(lat, 50).toFixed(1), p99: +percentile(lat, 99).toFixed(1), n: lat.length };
  result.overFloorMs = { p50: +percentile(over, 50).toFixed(1), p99: +percentile(over, 99).toFixed(1), n: over.length };
  result.baselineInformerMs = { p50: +percentile(base, 50).toFixed(1), p99: +percentile(base, 99).toFixed(1), n: base.length };
  result.peakRssMB = Math.round(peakRss / 1e6);
  // where the peak was: V8 heap (used/total) or outside it (buffers, native)
  if (atPeak) result.atPeakMB = { heapUsed: Math.round(atPeak.heapUsed / 1e6), heapTotal: Math.round(atPeak.heapTotal / 1e6), external: Math.round(atPeak.external / 1e6), arrayBuffers: Math.round(atPeak.arrayBuffers / 1e6) };
  result.targets = { initialSyncMs: 5000, peakRssMB: 500, changeToSnapshotP99Ms: 50 };
  log(JSON.stringify(result));
} catch (e) {
  if (!(e as { syncOnly?: boolean }).syncOnly) throw e;
  result.memory = (e as { memory?: unknown }).memory;
} finally {
  clearInterval(rssTimer);
  await fed?.stop();
  child.kill('SIGTERM');
}
console.log(JSON.stringify(result));
