// The dashboard's cost to the control plane: the admin server's CPU (its own process, from /proc) while it scrapes N proxies
// (a child process) every round and feeds one open dashboard (graph WebSocket, events WebSocket, the page's table
// and sparkline requests), side by side with the same server idle; and how fast it serves the page and assets.
// Env: BENCH_SECONDS (per phase, default 20), BENCH_PROXIES (default 10), BENCH_LARGE (proxies of a last phase, default 1000; 0 = skip).
// Prints progress on stderr and one JSON object on the last stdout line.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { cpuMs } from './fixtures/processCpu.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const PROXIES = Number(process.env.BENCH_PROXIES ?? 10);
const LARGE = Number(process.env.BENCH_LARGE ?? 1000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function child(file: string, args: string[]): Promise<{ line: Record<string, unknown>; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [...(process.env.BENCH_PROF && file.includes('admin') ? ['--cpu-prof', '--cpu-prof-dir=test-output/prof'] : []), '--import', 'tsx', new URL(file, import.meta.url).pathname, ...args], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, MESHFED_LOG_LEVEL: 'warn' } });
  return new Promise((resolve) => createInterface({ input: proc.stdout! }).once('line', (l) => resolve({ line: JSON.parse(l) as Record<string, unknown>, proc })));
}

/** utime+stime of a process, ms (NaN once it is gone: the figure then says so) */
const cpuMsOf = (pid: number): number => cpuMs(pid) ?? NaN;

/** CPU of process `pid` over `seconds`, in % of one core, while `during` runs (here, in the bench process). */
async function cpuOver(pid: number, seconds: number, during: () => Promise<unknown> = () => sleep(250)): Promise<number> {
  const c0 = cpuMsOf(pid);
  const t0 = Date.now();
  let stop = false;
  const bg = (async () => { while (!stop) await during(); })();
  await sleep(seconds * 1000);
  stop = true;
  await bg;
  return +((100 * (cpuMsOf(pid) - c0)) / (Date.now() - t0)).toFixed(2);
}

/** One open dashboard as the page behaves: both WebSockets, tables every 5 s, a sparkline every 1 s. */
function dashboardClient(base: string): { during: () => Promise<void>; close: () => void; graphs: () => number } {
  let graphs = 0;
  const feed = new WebSocket(base.replace('http', 'ws') + '/feed');
  feed.on('message', () => { graphs++; });
  const events = new WebSocket(base.replace('http', 'ws') + '/events');
  let n = 0;
  return {
    graphs: () => graphs,
    during: async () => {
      await fetch(`${base}/debug/series?id=${encodeURIComponent('service/east-1/bookinfo/reviews')}`).then((r) => r.text());
      if (n++ % 5 === 0) await Promise.all(['/debug/topology', '/debug/traffic'].map((p) => fetch(base + p).then((r) => r.text())));
      await sleep(1000);
    },
    close: () => { feed.close(); events.close(); },
  };
}

async function serveTimes(base: string): Promise<Record<string, { p50ms: number; maxMs: number; bytes: number }>> {
  const out: Record<string, { p50ms: number; maxMs: number; bytes: number }> = {};
  for (const p of ['/', '/app.js', '/graph.js', '/style.css', '/vendor/cytoscape.min.js', '/vendor/layout-base.js', '/vendor/cose-base.js', '/vendor/cytoscape-fcose.js']) {
    const lat: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 40; i++) {
      const t = process.hrtime.bigint();
      const body = await (await fetch(base + p)).arrayBuffer();
      lat.push(Number(process.hrtime.bigint() - t) / 1e6);
      bytes = body.byteLength;
    }
    lat.sort((a, b) => a - b);
    out[p] = { p50ms: +lat[20]!.toFixed(2), maxMs: +lat.at(-1)!.toFixed(2), bytes };
  }
  return out;
}

const admin = await child('./fixtures/adminServer.ts', []);
const base = String(admin.line['url']);
const pid = Number(admin.line['pid']);
const setTargets = (urls: string[]): void => { admin.proc.stdin!.write(JSON.stringify(urls) + '\n'); };
process.stderr.write('serving times…\n');
const serve = await serveTimes(base);

process.stderr.write(`idle admin server, ${SECONDS} s…\n`);
const idle = await cpuOver(pid, SECONDS);

const small = await child('./fixtures/fakeProxies.ts', [String(PROXIES)]);
setTargets(small.line['urls'] as string[]);
const client = dashboardClient(base);
await sleep(2000);
process.stderr.write(`${PROXIES} proxies scraped + one open dashboard, ${SECONDS} s…\n`);
const g0 = client.graphs();
const withDashboard = await cpuOver(pid, SECONDS, client.during);
const graphsPerSecond = +((client.graphs() - g0) / SECONDS).toFixed(2);
const graphBytes = (await (await fetch(base + '/debug/graph')).text()).length;
client.close();
small.proc.stdin!.end();

interface GraphMetrics { metrics: { periodMs: number; lastRoundMs: number; lastRoundCpuMs: number; rounds: number; errors: number }; edges: unknown[] }
const graphMetrics = async (): Promise<GraphMetrics> => (await (await fetch(base + '/debug/graph')).json()) as GraphMetrics;
let large: Record<string, number> | undefined;
if (LARGE > 0) {
  const big = await child('./fixtures/fakeProxies.ts', [String(LARGE)]);
  setTargets(big.line['urls'] as string[]);
  // two whole rounds of the large mesh first (its first round only sets each proxy's baseline)
  const r0 = (await graphMetrics()).metrics.rounds;
  const until = Date.now() + 180_000;
  while ((await graphMetrics()).metrics.rounds < r0 + 3 && Date.now() < until) await sleep(1000);
  process.stderr.write(`${LARGE} proxies scraped, ${SECONDS * 2} s…\n`);
  const cpu = await cpuOver(pid, SECONDS * 2);
  const g = await graphMetrics();
  const rss = Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)![1]) / 1024;
  large = { proxies: LARGE, cpuPercentOfOneCore: cpu, periodMs: g.metrics.periodMs, lastRoundMs: g.metrics.lastRoundMs, lastRoundCpuMs: g.metrics.lastRoundCpuMs, rounds: g.metrics.rounds - r0, scrapeErrors: g.metrics.errors, edges: g.edges.length, adminRssMB: Math.round(rss) };
  big.proc.stdin!.end();
}
admin.proc.stdin!.end();
console.log(JSON.stringify({
  seconds: SECONDS,
  loadAverage: (await import('node:os')).loadavg().map((x) => +x.toFixed(1)),
  serve,
  cpuPercentOfOneCore: { idleAdmin: idle, [`${PROXIES}ProxiesAndOneDashboard`]: withDashboard, added: +(withDashboard - idle).toFixed(2) },
  graphsPerSecond, graphJsonBytes: graphBytes,
  ...(large ? { large } : {}),
}));
process.exit(0);
