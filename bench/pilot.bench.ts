// 100 ADS streams subscribed to 50,000 endpoints (50 services × 1,000 endpoints across 5 clusters).
// Measures: full push (all streams get every EDS), one-endpoint change → every stream has the new EDS
// (p50/p99 over repetitions), peak RSS, CPU. Baseline in the same run: encoding the same resources once.
import { cpuUsage, memoryUsage } from 'node:process';
import { emptySnapshot, type Endpoint, type MeshService, type MeshSnapshot } from '../src/mesh/types.ts';
import { Pilot } from '../src/pilot/server.ts';
import { EventBus } from '../src/observe/events.ts';
import { translate } from '../src/pilot/translate.ts';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { packAny, TYPE_URL } from '../src/xds/protos.ts';

const STREAMS = 100, SERVICES = 50, PER = 1000, CLUSTERS = 5, REPS = 10;
const log = (m: string) => process.stderr.write(`pilot.bench: ${m}\n`);
let peakRss = 0;
const sample = setInterval(() => (peakRss = Math.max(peakRss, memoryUsage().rss)), 20);

function service(i: number, bump = -1): MeshService {
  const endpoints: Endpoint[] = [];
  for (let j = 0; j < PER; j++) {
    const c = j % CLUSTERS;
    endpoints.push({ cluster: `c${c}`, network: 'n1', locality: { region: `r${c % 3}`, zone: `z${c}`, subZone: '' }, address: `10.${i}.${j >> 8}.${j & 255}`, ports: { http: j === bump ? 9999 : 8080 }, ready: true, tlsMode: 'disabled', labels: {} });
  }
  return { namespace: 'bench', name: `s${i}`, hostname: `s${i}.bench.svc.cluster.local`, ports: [{ name: 'http', port: 80, protocol: 'TCP' }], clusters: ['c0'], endpoints, conflicts: [] };
}
const services = Array.from({ length: SERVICES }, (_, i) => service(i));
const snap = (v: number, svcs: MeshService[]): MeshSnapshot => emptySnapshot({ version: v, services: new Map(svcs.map((s) => [`bench/${s.name}`, s])) });
const names = services.map((s) => `outbound|80||${s.hostname}`);
const node = { id: 'b', role: 'proxyless' as const, cluster: 'c0', network: 'n1', locality: { region: 'r0', zone: 'z0', subZone: '' } };

// baseline: translate + encode all 50 ClusterLoadAssignments once
const s0 = snap(1, services);
let t = performance.now();
let bytes = 0;
for (const r of translate(s0, node, TYPE_URL.endpoint, names).resources.values()) bytes += packAny(TYPE_URL.endpoint, r).value.length;
const baselineFullEncodeMs = performance.now() - t;
t = performance.now();
packAny(TYPE_URL.endpoint, translate(s0, node, TYPE_URL.endpoint, [names[0]!]).resources.get(names[0]!)!);
const baselineOneEncodeMs = performance.now() - t;
log(`baseline: encode all ${SERVICES} CLAs ${baselineFullEncodeMs.toFixed(1)} ms (${bytes} bytes), one CLA ${baselineOneEncodeMs.toFixed(2)} ms`);

const cpu0 = cpuUsage();
const events = new EventBus();
const serverSide: number[] = [];
events.subscribe((e) => { if (e.kind === 'push.done' && typeof e.data?.seconds === 'number') serverSide.push(e.data.seconds * 1000); });
const pilot = new Pilot({ port: 0, host: '127.0.0.1', debounceMs: 1, maxDelayMs: 10, events });
pilot.setSnapshot(s0);
await pilot.start();
// the 100 proxies live in another process (as real proxies do): their decoding does not run on pilot's thread
const child = spawn(process.execPath, ['--import', 'tsx', new URL('./fixtures/adsStreams.ts', import.meta.url).pathname, `127.0.0.1:${pilot.port}`, String(STREAMS), JSON.stringify(names)], { stdio: ['pipe', 'pipe', 'inherit'] });
const now = () => performance.timeOrigin + performance.now();
const seen: { i: number; t: number; version: string }[] = [];
createInterface({ input: child.stdout! }).on('line', (l) => seen.push(JSON.parse(l)));
/** Resolves when every stream has received a response after `since` (epoch ms); returns the last arrival. */
async function allStreamsAfter(since: number, timeoutMs: number): Promise<number> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const got = new Map<number, number>();
    for (const r of seen) if (r.t >= since && !got.has(r.i)) got.set(r.i, r.t);
    if (got.size === STREAMS) return Math.max(...got.values());
    if (Date.now() > end) throw new Error(`only ${got.size}/${STREAMS} streams got the change`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
t = now();
const fullPushMs = (await allStreamsAfter(t, 120_000)) - t;
log(`full push to ${STREAMS} streams (subscribe → all have EDS): ${fullPushMs.toFixed(0)} ms`);
await new Promise((r) => setTimeout(r, 500));

const lat: number[] = [];
for (let rep = 0; rep < REPS; rep++) {
  const k = rep % SERVICES;
  const svcs = services.slice();
  svcs[k] = service(k, 7);
  services[k] = svcs[k]!;
  const t0 = now();
  pilot.setSnapshot(snap(rep + 2, svcs));
  lat.push((await allStreamsAfter(t0, 30_000)) - t0);
  log(`rep ${rep + 1}/${REPS}: change → all ${STREAMS} streams ${lat.at(-1)!.toFixed(1)} ms`);
  await new Promise((r) => setTimeout(r, 200));
}
const cpu = cpuUsage(cpu0);
child.stdin!.end();
await pilot.stop();
clearInterval(sample);
lat.sort((a, b) => a - b);
const pct = (p: number) => lat[Math.min(lat.length - 1, Math.ceil((p / 100) * lat.length) - 1)]!;
console.log(JSON.stringify({
  streams: STREAMS, endpoints: SERVICES * PER, clusters: CLUSTERS, reps: REPS,
  changeToAllStreamsMs: { p50: +pct(50).toFixed(1), p99: +pct(99).toFixed(1), max: +lat.at(-1)!.toFixed(1) },
  fullPushMs: +fullPushMs.toFixed(0),
  baselineEncodeAllOnceMs: +baselineFullEncodeMs.toFixed(1), baselineEncodeOneClaMs: +baselineOneEncodeMs.toFixed(2),
  peakRssMiB: Math.round(peakRss / 2 ** 20), proxies: 'separate process', cpuUserMs: Math.round(cpu.user / 1000), cpuSystemMs: Math.round(cpu.system / 1000),
  serverSideFlushMs: serverSide.slice(-REPS).map((x) => +x.toFixed(1)),
  targetP99Ms: 100,
}));
process.exit(0);
