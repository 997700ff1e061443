// East-west gateway overhead, side by side in one run: direct TLS to the endpoint, through `meshfed gateway`
// (a real CLI process fed by a test ADS server; on libuv handles, and again with `--transport net`), through HAProxy (TCP mode, req.ssl_sni routing), and through a
// bare Node.js relay that waits for the first bytes as SNI routing must (the runtime's floor for such a proxy on
// net.Socket). The proxy-bound storm adds the floor on the gateway's own transport (libuv handles, no logic), in one
// and two processes: what any Node.js proxy could do there against HAProxy.
// Every path gets the same unmeasured warm-up first.
// Prints progress on stderr and one JSON object on the last stdout line.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import tls from 'node:tls';
import { MESHFED_BIN } from '../test/helpers/meshfed.ts';
import { TestAds } from '../test/helpers/adsServer.ts';
import { selfSigned } from '../test/helpers/tlsCerts.ts';
import { TYPE_URL } from '../src/xds/protos.ts';
import { gatewaySni } from '../src/mesh/names.ts';
import { closedLoop } from './fixtures/closedLoop.ts';
import { cpuMs, treeCpuMs } from './fixtures/processCpu.ts';
import { GATEWAY_NODE_FLAGS } from '../src/deploy/nodeFlags.ts';

const SNI = gatewaySni('bench.demo.svc.cluster.local', 8080);
const RTT_N = Number(process.env.BENCH_RTT_N ?? 3000);
const CONN_N = Number(process.env.BENCH_CONN_N ?? 2000);
const BULK_MB = Number(process.env.BENCH_BULK_MB ?? 64);
const creds = selfSigned('bench.test');
// BENCH_GW_PROF=DIR: run the gateway with --cpu-prof, profile written to DIR when it exits
const GW_PROF = process.env.BENCH_GW_PROF;
const log = (s: string) => process.stderr.write(`${s}\n`);

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

const CHUNK = Buffer.alloc(1 << 20, 7);
const backend = tls.createServer(creds, (s) => {
  s.on('error', () => {});
  s.on('data', (d: Buffer) => {
    if (d.toString().startsWith('BULK')) {
      let left = Number(d.toString().slice(5)) || BULK_MB;
      const pump = (): void => { while (left > 0) { left--; if (!s.write(CHUNK)) { s.once('drain', pump); return; } } s.end(); };
      pump();
    } else s.write(d);
  });
});
await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
const bport = (backend.address() as net.AddressInfo).port;

// For the storm where the proxies, not the client, are the limit: a backend that answers one byte to anything, and a
// real ClientHello for RAW_SNI recorded once, which the client then sends raw. Both proxies read only the ClientHello
// (SNI routing, no TLS termination), so each connection costs the client and the backend almost nothing.
const RAW_SNI = gatewaySni('raw.demo.svc.cluster.local', 8080);
const rawBackend = net.createServer((s) => { s.on('error', () => {}); s.once('data', () => s.end('y')); });
await new Promise<void>((r) => rawBackend.listen(0, '127.0.0.1', r));
const rport = (rawBackend.address() as net.AddressInfo).port;
const RAW_HELLO = await new Promise<Buffer>((resolve) => {
  const rec = net.createServer((s) => s.once('data', (d: Buffer) => { resolve(d); s.destroy(); rec.close(); }));
  rec.listen(0, '127.0.0.1', () => tls.connect({ host: '127.0.0.1', port: (rec.address() as net.AddressInfo).port, servername: RAW_SNI }).on('error', () => {}));
});

function connect(port: number): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const c = tls.connect({ host: '127.0.0.1', port, servername: SNI, ca: creds.cert, checkServerIdentity: () => undefined }, () => resolve(c));
    c.once('error', reject);
  });
}

/** A path's figures with the latency it adds over direct. */
function withAdded<T extends { p50ms: number; p99ms: number }>(via: T, direct: { p50ms: number; p99ms: number }) {
  return { ...via, addedP50ms: +(via.p50ms - direct.p50ms).toFixed(3), addedP99ms: +(via.p99ms - direct.p99ms).toFixed(3) };
}

/** The first JSON line a child process prints on stdout (its listening ports); rejects if it exits first. */
function firstJsonLine<T>(child: ChildProcess, name: string): Promise<T> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => { out += d; const l = out.split('\n').find((x) => x.startsWith('{')); if (l) resolve(JSON.parse(l) as T); });
    child.once('exit', (c) => reject(new Error(`${name} exited ${c}`)));
  });
}

/** until something accepts connections on `port` (HAProxy, started as a process), for up to 5 s */
async function listeningOn(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((r) => { const s = net.connect(port, '127.0.0.1', () => { s.destroy(); r(true); }); s.on('error', () => r(false)); });
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!; };

interface Counts { rttN: number; connN: number; bulkMB: number }
// Every path gets the same unmeasured warm-up first (a JIT-compiled proxy pays its compilation on its first
// connections — once per process, not per connection; HAProxy is compiled ahead of time).
const WARM: Counts = { rttN: Number(process.env.BENCH_WARM_RTT_N ?? 1000), connN: Number(process.env.BENCH_WARM_CONN_N ?? 500), bulkMB: 64 };

/** the CPU time (ms) `pid` (with `read`: its process tree) uses from now on: call the meter for it; undefined without a pid, or once it is gone */
function cpuMeter(pid: number | undefined, read: (pid: number) => number | undefined = cpuMs): () => number | undefined {
  const start = pid === undefined ? undefined : read(pid);
  return () => {
    const now = pid === undefined ? undefined : read(pid);
    return start === undefined || now === undefined ? undefined : now - start;
  };
}

/** `n` round trips of 64 bytes on one connection to `port`: latency, and the CPU time of `proxyPid` per round trip */
async function roundTrips(port: number, n: number, proxyPid?: number) {
  const used = cpuMeter(proxyPid);
  const c = await connect(port);
  const lat: number[] = [];
  const msg = Buffer.alloc(64, 1);
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await new Promise<void>((r) => { c.once('data', () => r()); c.write(msg); });
    lat.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  c.destroy();
  const cpu = used();
  const r = { p50ms: +pct(lat, 50).toFixed(3), p99ms: +pct(lat, 99).toFixed(3) };
  // The proxy's own CPU time per unit of work: a load-independent comparison (the bench client and backend share
  // the same 2 cores with the proxy). Clock ticks are 10 ms: keep n in the thousands.
  return cpu === undefined ? r : { ...r, proxyCpuUsPerRtt: +((cpu * 1000) / n).toFixed(1) };
}

/** `mb` MiB from the backend through `port` on one connection: MiB/s, and the CPU time (ms) `proxyPid` used */
async function bulk(port: number, mb: number, proxyPid?: number): Promise<{ mbps: number; mib: number; proxyCpuMs?: number }> {
  const used = cpuMeter(proxyPid);
  const b = await connect(port);
  const t0 = process.hrtime.bigint();
  let bytes = 0;
  await new Promise<void>((r) => { b.on('data', (d: Buffer) => { bytes += d.length; }); b.on('end', () => r()); b.on('close', () => r()); b.write(`BULK ${mb}`); });
  const mib = bytes / (1 << 20);
  const mbps = +(mib / (Number(process.hrtime.bigint() - t0) / 1e9)).toFixed(1);
  b.destroy();
  const cpu = used();
  return cpu === undefined ? { mbps, mib } : { mbps, mib, proxyCpuMs: cpu };
}

/**
 * `n` new connections one after another (TLS handshake, a byte each way, close): connections/s and the proxy's CPU
 * time (ms) over them
 */
async function connections(port: number, n: number, proxyPid?: number): Promise<{ connPerSec: number; proxyCpuMs?: number }> {
  const used = cpuMeter(proxyPid);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const s = await connect(port);
    await new Promise<void>((r) => { s.once('data', () => r()); s.write('x'); });
    s.destroy();
  }
  const connPerSec = +(n / (Number(process.hrtime.bigint() - t0) / 1e9)).toFixed(1);
  const cpu = used();
  return cpu === undefined ? { connPerSec } : { connPerSec, proxyCpuMs: cpu };
}

/** the gateway's node flags without profiling (only the gateway under study is profiled) */
function relayArgsOf(args: string[]): string[] { return args.filter((a) => !a.startsWith('--cpu-prof')); }

// meshfed gateway
const ads = new TestAds();
const xdsAddr = await ads.start();
ads.set(TYPE_URL.cluster, '1', [{ name: SNI, type: 'EDS' }, { name: RAW_SNI, type: 'EDS' }]);
const cla = (name: string, port: number) => ({ cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }] });
ads.set(TYPE_URL.endpoint, '1', [cla(SNI, bport), cla(RAW_SNI, rport)]);
// the gateway runs as deployed: with the node flags of its manifest (src/deploy/nodeFlags.ts). BENCH_GW_NODE_ARGS
// replaces them (e.g. V8 tracing or GC flags to try; '' = node's defaults)
const gwNodeArgs = [...(GW_PROF ? ['--cpu-prof', `--cpu-prof-dir=${GW_PROF}`] : []), ...(process.env.BENCH_GW_NODE_ARGS?.split(' ').filter(Boolean) ?? GATEWAY_NODE_FLAGS)];
/** `meshfed gateway` with the bench's xDS and node flags and `extra` flags, once it is ready */
async function startGatewayProcess(name: string, extra: string[], nodeArgs = gwNodeArgs) {
  const child = spawn(process.execPath, [...nodeArgs, MESHFED_BIN, 'gateway', ...extra, '--xds', xdsAddr, '--network', 'n', '--region', 'r', '--listen', '127.0.0.1:0', '--health', '127.0.0.1:0', '--metrics', '127.0.0.1:0', '--drain-ms', '100'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, MESHFED_LOG_LEVEL: 'error' } });
  const ports = await firstJsonLine<{ listen: number; health: number }>(child, name);
  for (let i = 0; i < 200 && (await fetch(`http://127.0.0.1:${ports.health}/healthz/ready`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 50));
  return { child, listen: ports.listen, pid: child.pid! };
}
const gw = await startGatewayProcess('meshfed gateway', []);
// the same gateway on net.Socket (--transport net): what the libuv-handle transport saves, in the same run
const gwNet = await startGatewayProcess('meshfed gateway --transport net', ['--transport', 'net'], relayArgsOf(gwNodeArgs));
await new Promise((r) => setTimeout(r, 200));

// haproxy
let hap: ChildProcess | undefined;
const hapDir = mkdtempSync(join(tmpdir(), 'meshfed-haproxy-'));
const hport = await freePort();
writeFileSync(join(hapDir, 'h.cfg'), `global\n  maxconn 4096\ndefaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\nfrontend fe\n  bind 127.0.0.1:${hport}\n  tcp-request inspect-delay 5s\n  tcp-request content accept if { req_ssl_hello_type 1 }\n  use_backend be if { req.ssl_sni -i ${SNI} }\n  use_backend raw if { req.ssl_sni -i ${RAW_SNI} }\nbackend be\n  server s1 127.0.0.1:${bport}\nbackend raw\n  server r1 127.0.0.1:${rport}\n`);
try {
  hap = spawn('haproxy', ['-db', '-f', join(hapDir, 'h.cfg')], { stdio: 'ignore' });
  hap.on('error', () => { hap = undefined; });
  await listeningOn(hport);
} catch { hap = undefined; }

// the Node.js floor: a bare relay (bench/fixtures/nodeRelay.mjs) — what any SNI-routing proxy on this runtime pays
// per connection and per byte before doing anything of its own; the runtime is node with the gateway's node flags
const relayNodeArgs = relayArgsOf(gwNodeArgs);
const relay = spawn(process.execPath, [...relayNodeArgs, fileURLToPath(new URL('./fixtures/nodeRelay.mjs', import.meta.url)), String(bport)], { stdio: ['ignore', 'pipe', 'inherit'] });
const relayPort = (await firstJsonLine<{ listen: number }>(relay, 'node relay')).listen;

// Paths are measured in ROUNDS rounds, each in a rotated order, and reported as medians: on a 2-core machine shared
// with the client and the backend, a figure drifts by ±30 % over a minute, so paths measured side by side in one
// round are compared (ratios per round, then their median), never one path's early minute with another's late one.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
type Path = { name: string; port: number; pid?: number };
/** each path warmed up (`run(p, true)`), then `rounds` rounds in a rotated order; the figures of each round by path */
async function inRounds<F>(label: string, paths: Path[], run: (p: Path, warmUp: boolean) => Promise<F>, rounds = ROUNDS): Promise<Record<string, F>[]> {
  for (const p of paths) { log(`${label}${p.name}: warm-up…`); await run(p, true); }
  const out: Record<string, F>[] = [];
  for (let round = 0; round < rounds; round++) {
    const now: Record<string, F> = {};
    for (let i = 0; i < paths.length; i++) {
      const p = paths[(i + round) % paths.length]!;
      if (rounds <= ROUNDS || i === 0) log(`${label}round ${round + 1}/${rounds}${rounds <= ROUNDS ? `: ${p.name}` : ''}…`);
      now[p.name] = await run(p, false);
    }
    out.push(now);
  }
  return out;
}
const medianOf = (xs: number[]) => pct(xs, 50);
/** one path's figures over the rounds: the median of each */
const medians = <F extends object>(rounds: Record<string, F>[], name: string): F =>
  Object.fromEntries(Object.keys(rounds[0]![name]!).map((k) => [k, medianOf(rounds.map((r) => (r[name] as Record<string, number>)[k]!))])) as F;
/** a ratio between two paths in each slice where both ran: too many slices to list, so its median and spread over them */
function sliceRatio<F>(slices: Record<string, F>[], of: (r: Record<string, F>) => number | undefined) {
  const xs = slices.map(of).filter((x): x is number => x !== undefined && Number.isFinite(x));
  const q = (p: number) => +pct(xs, p).toFixed(2);
  return xs.length ? { slices: xs.length, median: q(50), p10: q(10), p90: q(90) } : undefined;
}

const result: Record<string, unknown> = { gatewayNodeFlags: gwNodeArgs.join(' '), rttN: RTT_N, connN: CONN_N, bulkMB: BULK_MB, warmUp: WARM, rounds: ROUNDS };
const hapUp = hap !== undefined && hap.exitCode === null;
const paths: Path[] = [
  { name: 'direct', port: bport },
  { name: 'meshfedGateway', port: gw.listen, pid: gw.pid },
  { name: 'meshfedGatewayNetTransport', port: gwNet.listen, pid: gwNet.pid },
  ...(hapUp ? [{ name: 'haproxy', port: hport, pid: hap!.pid! }] : []),
  { name: 'nodeRelayFloor', port: relayPort, pid: relay.pid! },
];
const trips = await inRounds('round trips: ', paths, (p, warmUp) => roundTrips(p.port, warmUp ? WARM.rttN : RTT_N, warmUp ? undefined : p.pid));
// New connections one after another, and bulk, are measured in short slices (CONN_SLICE connections, or BULK_MB
// MiB, per path per slice), the paths rotating from slice to slice: one connection at a time runs at the pace of
// the client's TLS handshake, and bulk at the pace of the client's and backend's TLS, both of which drift by ±30 %
// over a minute here; so paths are compared slice by slice, measured within seconds of each other, and the ratios
// are the median over the slices.
const CONN_SLICE = Number(process.env.BENCH_CONN_SLICE ?? 200);
const CONN_SLICES = Math.max(1, Math.round((CONN_N * ROUNDS) / CONN_SLICE));
const BULK_SLICES = Number(process.env.BENCH_BULK_SLICES ?? 5 * ROUNDS);
const connSlices = await inRounds('new connections, one after another: ', paths, (p, warmUp) => connections(p.port, warmUp ? WARM.connN : CONN_SLICE, warmUp ? undefined : p.pid), CONN_SLICES);
const bulkSlices = await inRounds('bulk: ', paths, (p, warmUp) => bulk(p.port, warmUp ? WARM.bulkMB : BULK_MB, warmUp ? undefined : p.pid), BULK_SLICES);
/** the proxy's CPU over all slices per unit of work */
const perUnit = <F extends { proxyCpuMs?: number }>(sl: Record<string, F>[], name: string, units: (f: F) => number) =>
  +(sl.reduce((sum, r) => sum + (r[name]!.proxyCpuMs ?? NaN), 0) / sl.reduce((sum, r) => sum + units(r[name]!), 0)).toFixed(3);
const figures = (name: string) => ({
  ...medians(trips, name),
  connPerSec: medianOf(connSlices.map((r) => r[name]!.connPerSec)),
  bulkMBps: medianOf(bulkSlices.map((r) => r[name]!.mbps)),
  ...(name === 'direct' ? {} : { proxyCpuMsPerConn: perUnit(connSlices, name, () => CONN_SLICE), proxyCpuMsPerMB: perUnit(bulkSlices, name, (f) => f.mib) }),
});
const direct = figures('direct');
result.direct = direct;
for (const p of paths.slice(1)) result[p.name] = withAdded(figures(p.name), direct);
if (!hapUp) result.haproxy = { error: 'haproxy not available (apt-get install -y haproxy)' };
result.slices = { connections: CONN_SLICES, connectionsPerSlice: CONN_SLICE, bulk: BULK_SLICES, mibPerBulkSlice: BULK_MB };
result.gatewayRatios = {
  connPerSecVsRelayFloor: sliceRatio(connSlices, (r) => r.meshfedGateway!.connPerSec / r.nodeRelayFloor!.connPerSec),
  connPerSecVsHaproxy: sliceRatio(connSlices, (r) => (r.haproxy ? r.meshfedGateway!.connPerSec / r.haproxy.connPerSec : undefined)),
  bulkVsHaproxy: sliceRatio(bulkSlices, (r) => (r.haproxy ? r.meshfedGateway!.mbps / r.haproxy.mbps : undefined)),
  connPerSecVsNetTransport: sliceRatio(connSlices, (r) => r.meshfedGateway!.connPerSec / r.meshfedGatewayNetTransport!.connPerSec),
};
relay.kill('SIGTERM');

// New connections under concurrency: CONC clients each opening TLS connections (ClientHello → routed → one byte back),
// against `meshfed gateway --workers 2` and HAProxy with nbthread 2, in this run (the client and the backend share the
// machine's cores with the proxy, as they do everywhere in this bench).
const CONC = Number(process.env.BENCH_CONC ?? 64);
// Storms run in slices too (STORM_SLICES per path, the paths rotating from slice to slice), ratios being the median
// over the slices: in rounds of 15,000 connections (3 s per path), the per-round ratio of `--workers 2` to HAProxy
// ranged 0.73–1.40 within single runs, the machine's pace moving between one path's round and the next's.
const STORM_SLICES = Number(process.env.BENCH_STORM_SLICES ?? 15);
/** connections per path per slice: TLS clients (~1,000/s here), and the proxy-bound storm (~5,000/s) */
const STORM_N = Number(process.env.BENCH_STORM_N ?? 500);
const RAW_STORM_N = Number(process.env.BENCH_RAW_STORM_N ?? 2000);
/** one connection of the proxy-bound storm: the recorded ClientHello out, the raw backend's byte back */
const rawRequest = (port: number) => new Promise<void>((resolve, reject) => {
  const s = net.connect({ host: '127.0.0.1', port, noDelay: true }, () => s.write(RAW_HELLO));
  s.once('data', () => { s.destroy(); resolve(); });
  s.once('error', reject);
  s.once('end', () => { s.destroy(); reject(new Error('closed without an answer')); });
});
async function storm(port: number, proxyPid?: number, raw = false): Promise<{ connPerSec: number; p50ms: number; p99ms: number; failed: number; proxyCpuMs?: number }> {
  const used = cpuMeter(proxyPid, treeCpuMs);
  const n = raw ? RAW_STORM_N : STORM_N;
  const r = await closedLoop(n, CONC, raw ? () => rawRequest(port) : async () => {
    const s = await connect(port);
    await new Promise<void>((done) => { s.once('data', () => done()); s.write('x'); });
    s.destroy();
  });
  const cpu = used();
  return { connPerSec: +(n / r.secs).toFixed(1), p50ms: +pct(r.latMs, 50).toFixed(2), p99ms: +pct(r.latMs, 99).toFixed(2), failed: r.failed, ...(cpu === undefined ? {} : { proxyCpuMs: cpu }) };
}
const gw2 = await startGatewayProcess('meshfed gateway --workers 2', ['--workers', '2']);
const hport2 = await freePort();
writeFileSync(join(hapDir, 'h2.cfg'), readFileSync(join(hapDir, 'h.cfg'), 'utf8').replace('global\n', 'global\n  nbthread 2\n').replace(`bind 127.0.0.1:${hport}`, `bind 127.0.0.1:${hport2}`));
let hap2: ChildProcess | undefined;
try { hap2 = spawn('haproxy', ['-db', '-f', join(hapDir, 'h2.cfg')], { stdio: 'ignore' }); hap2.on('error', () => { hap2 = undefined; }); await listeningOn(hport2); } catch { hap2 = undefined; }
const concurrent: Record<string, unknown> = { concurrency: CONC, slices: STORM_SLICES, connectionsPerSlice: STORM_N };
// the client opens a TLS connection per request, like the backend, so on 2 cores the client is the bottleneck: the
// rate of every path is close to `direct`'s, and CPU per connection in the proxy says what each would do on its own cores
const stormPaths: Path[] = [
  { name: 'direct', port: bport },
  { name: 'meshfedGateway', port: gw.listen, pid: gw.pid },
  { name: 'meshfedGatewayNetTransport', port: gwNet.listen, pid: gwNet.pid },
  { name: 'meshfedGatewayWorkers2', port: gw2.listen, pid: gw2.pid },
  ...(hap2 && hap2.exitCode === null ? [{ name: 'haproxyNbthread2', port: hport2, pid: hap2.pid! }] : []),
];
/** the paths in rotated slices: medians per path, and ratios between paths per slice (median, p10, p90) */
async function storms(label: string, stormed: Path[], raw: boolean, floors = false): Promise<Record<string, unknown>> {
  const slices = await inRounds(`${label}: `, stormed, (p, warmUp) => storm(p.port, warmUp ? undefined : p.pid, raw), STORM_SLICES);
  const per = (a: string, b: string) => sliceRatio(slices, (r) => (r[a] && r[b] ? r[a].connPerSec / r[b].connPerSec : undefined));
  return {
    ...Object.fromEntries(stormed.map((p) => {
      const { proxyCpuMs: _total, ...m } = medians(slices, p.name);
      return [p.name, { ...m, ...(p.pid ? { proxyCpuMsPerConn: perUnit(slices, p.name, () => (raw ? RAW_STORM_N : STORM_N)) } : {}) }];
    })),
    workers2VsHaproxy: per('meshfedGatewayWorkers2', 'haproxyNbthread2'),
    // one gateway process against HAProxy's two threads: on 2 cores shared with the client and the backend, a second
    // process adds switching more than it adds cores
    gatewayVsHaproxy: per('meshfedGateway', 'haproxyNbthread2'),
    gatewayVsRelayFloor: per('meshfedGateway', 'nodeRelayFloor'),
    gatewayVsNetTransport: per('meshfedGateway', 'meshfedGatewayNetTransport'),
    ...(floors ? {
      // the best any Node.js proxy did here against HAProxy, and the gateway against that best
      handleFloorWorkers2VsHaproxy: per('handleRelayFloorWorkers2', 'haproxyNbthread2'),
      handleFloorVsHaproxy: per('handleRelayFloor', 'haproxyNbthread2'),
      workers2VsHandleFloorWorkers2: per('meshfedGatewayWorkers2', 'handleRelayFloorWorkers2'),
      gatewayVsHandleFloor: per('meshfedGateway', 'handleRelayFloor'),
    } : {}),
  };
}
Object.assign(concurrent, await storms(`concurrency ${CONC}, TLS clients`, stormPaths, false));
// the same paths when the proxies are the limit: clients that send a recorded ClientHello and read one byte
// (and the Node relay floor, one process like the gateway without --workers)
const rawRelay = spawn(process.execPath, [...relayNodeArgs, fileURLToPath(new URL('./fixtures/nodeRelay.mjs', import.meta.url)), String(rport)], { stdio: ['ignore', 'pipe', 'inherit'] });
const rawRelayPort = (await firstJsonLine<{ listen: number }>(rawRelay, 'node relay')).listen;
// and the floor of any Node.js proxy on the gateway's own transport (bench/fixtures/handleRelay.mjs: libuv handles, a
// fixed upstream, no logic), in one process and in two (as --workers 2): what the runtime allows against HAProxy
const handleFloor = (workers: number) => spawn(process.execPath, [...relayNodeArgs, fileURLToPath(new URL('./fixtures/handleRelay.mjs', import.meta.url)), String(rport), String(workers)], { stdio: ['ignore', 'pipe', 'inherit'] });
const floor1 = handleFloor(1);
const floor2 = handleFloor(2);
const floor1Port = (await firstJsonLine<{ listen: number }>(floor1, 'handle relay')).listen;
const floor2Port = (await firstJsonLine<{ listen: number }>(floor2, 'handle relay, 2 processes')).listen;
const bound = await storms(`concurrency ${CONC}, recorded ClientHello`, [
  ...stormPaths.map((p) => (p.name === 'direct' ? { ...p, port: rport } : p)),
  { name: 'nodeRelayFloor', port: rawRelayPort, pid: rawRelay.pid! },
  { name: 'handleRelayFloor', port: floor1Port, pid: floor1.pid! },
  { name: 'handleRelayFloorWorkers2', port: floor2Port, pid: floor2.pid! },
], true, true);
concurrent.proxyBound = { connectionsPerSlice: RAW_STORM_N, ...bound };
rawRelay.kill('SIGTERM');
floor1.kill('SIGTERM');
floor2.kill('SIGTERM');
result.concurrent = concurrent;
gw2.child.kill('SIGTERM');
gwNet.child.kill('SIGTERM');
hap2?.kill('SIGTERM');

const gwExited = new Promise((r) => gw.child.once('exit', r));
gw.child.kill('SIGTERM');
hap?.kill('SIGTERM');
if (GW_PROF) await gwExited; // the profile is written as the gateway exits
ads.stop();
backend.close();
rawBackend.close();
rmSync(hapDir, { recursive: true, force: true });
console.log(JSON.stringify(result));
process.exit(0);
