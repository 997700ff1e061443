// 100 ADS streams subscribed to 50,000 endpoints (50 services × 1,000 endpoints across 5 clusters).
// Measures: full push (all streams get every EDS), one-endpoint change → every stream has the new EDS
// (p50/p99 over 100 repetitions: with fewer, "p99" is just the maximum), peak RSS and CPU of the pilot process (the 100 clients run in a child process,
// bench/pilot-clients.ts). Baseline in the same run: translating + encoding the same resources once.
import { spawn } from 'node:child_process';
import { cpuUsage, memoryUsage } from 'node:process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { emptySnapshot, type Endpoint, type MeshService, type MeshSnapshot } from '../src/mesh/types.ts';
import { Pilot } from '../src/pilot/server.ts';
import { EventBus } from '../src/observe/events.ts';
import { translate } from '../src/pilot/translate.ts';
import { packAny, TYPE_URL } from '../src/xds/protos.ts';

const STREAMS = 100, SERVICES = 50, PER = 1000, CLUSTERS = 5, REPS = Number(process.env.BENCH_PILOT_REPS ?? 100);
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

/** Streams connect in the child; "go" is sent once all are open, so the full push excludes process start. */
async function waitForStreams(n: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (pilot.connectedStreams() < n) {
    if (Date.now() > until) throw new Error(`only ${pilot.connectedStreams()}/${n} ADS streams connected`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const cpu0 = cpuUsage();
const events = new EventBus();
const serverSide: number[] = [];
events.subscribe((e) => { if (e.kind === 'push.done' && typeof e.data?.seconds === 'number') serverSide.push(e.data.seconds * 1000); });
const pilot = new Pilot({ port: 0, host: '127.0.0.1', debounceMs: 1, maxDelayMs: 10, events });
pilot.setSnapshot(s0);
await pilot.start();
// the proxies run in a child process: this process's CPU and RSS are pilot's own
const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./pilot-clients.ts', import.meta.url)), `127.0.0.1:${pilot.port}`, String(STREAMS), names.join(',')], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, MESHFED_LOG_LEVEL: 'warn' } });
const rounds = createInterface({ input: child.stdout! });
const roundAt: ((at: number) => void)[] = [];
rounds.on('line', (l) => roundAt.shift()?.((JSON.parse(l) as { at: number }).at));
child.on('exit', (code) => {
  if (code) {
    log(`clients exited with ${code}`);
    process.exit(1);
  }
});
const nextRound = () => new Promise<number>((res) => roundAt.push(res));
const wall = () => performance.timeOrigin + performance.now();
await waitForStreams(STREAMS, 180_000);
let round = nextRound();
const t0 = wall();
child.stdin!.write('go\n');
const fullPushMs = (await round) - t0;
log(`full push to ${STREAMS} streams: ${fullPushMs.toFixed(0)} ms`);

const lat: number[] = [];
for (let rep = 0; rep < REPS; rep++) {
  const k = rep % SERVICES;
  const svcs = services.slice();
  svcs[k] = service(k, 7 + Math.floor(rep / SERVICES)); // another endpoint each time round, so every rep is a real change
  services[k] = svcs[k]!;
  await new Promise((r) => setTimeout(r, 200)); // let ACKs of the previous round land
  round = nextRound();
  const t1 = wall();
  pilot.setSnapshot(snap(rep + 2, svcs));
  lat.push((await round) - t1);
  log(`rep ${rep + 1}/${REPS}: change → all ${STREAMS} streams ${lat.at(-1)!.toFixed(1)} ms`);
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
  peakRssMiB: Math.round(peakRss / 2 ** 20), cpuUserMs: Math.round(cpu.user / 1000), cpuSystemMs: Math.round(cpu.system / 1000),
  serverSideFlushMs: serverSide.slice(-REPS).map((x) => +x.toFixed(1)),
  targetP99Ms: 100,
}));
process.exit(0);
