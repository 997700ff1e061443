// Footprint of the data plane as it is deployed: `meshfed sidecar` and `meshfed gateway` as their own processes from
// the build (dist/), with the V8 flags the manifests use, beside bare node and HAProxy in the same run.
// A (network n1) → A's sidecar → n2's gateway → B's sidecar → B, with a real CA and pilot in this process.
// Also `meshfed version` wall time and peak RSS beside `node -e 0`. Progress on stderr, one JSON line on stdout.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { initCa, loadCaDir } from '../src/ca/files.ts';
import { Signer } from '../src/ca/signer.ts';
import { CaServer } from '../src/ca/server.ts';
import { Pilot } from '../src/pilot/server.ts';
import { emptySnapshot, type Endpoint, type MeshService } from '../src/mesh/types.ts';
import { startEcho } from '../src/demo/echo.ts';
import { GATEWAY_NODE_FLAGS, PROXY_NODE_FLAGS } from '../src/deploy/nodeFlags.ts';
import { DEFAULT_INTERRUPT_BUDGET } from '../src/proxy/startupTiering.ts';
import { MESHFED_BIN } from '../test/helpers/meshfed.ts';
import { cpuMs } from './fixtures/processCpu.ts';

const N = Number(process.env.BENCH_N ?? 3000);
const CONC = Number(process.env.BENCH_CONC ?? 8);
const FILLER_SERVICES = Number(process.env.BENCH_SERVICES ?? 50);
const say = (l: string) => process.stderr.write(l + '\n');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const env = { ...process.env, MESHFED_FROM_SOURCE: '', MESHFED_LOG_LEVEL: 'warn' };

/**
 * VmRSS, VmHWM (peak) and the split of RSS into anonymous memory (this process's own) and file-backed pages (the node
 * binary's code, shared by every process running the same binary), MB
 */
function mem(pid: number): { rssMB: number; peakMB: number; anonMB: number; fileMB: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (k: string) => +(Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? NaN) / 1024).toFixed(1);
  return { rssMB: mb('VmRSS'), peakMB: mb('VmHWM'), anonMB: mb('RssAnon'), fileMB: mb('RssFile') };
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

type Ports = { outbound: number; inbound: number; metrics: number; listen: number; health: number };

function startProc(args: string[], nodeFlags: readonly string[]): { child: ChildProcess; firstLine: Promise<Ports> } {
  const child = spawn(process.execPath, [...nodeFlags, MESHFED_BIN, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env });
  const firstLine = new Promise<Ports>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d) => { buf += d; if (buf.includes('\n')) resolve(JSON.parse(buf.split('\n')[0]!) as Ports); });
    child.once('exit', (c) => reject(new Error(`meshfed ${args[0]} exited ${c}`)));
  });
  return { child, firstLine };
}

async function until(what: string, f: () => Promise<boolean>, ms = 60_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (await f().catch(() => false)) return;
  throw new Error(`timed out: ${what}`);
}
const ready = (host: string, port: number) => async () => (await fetch(`http://${host}:${port}/healthz/ready`)).status === 200;

async function load(host: string, port: number, url: string, n: number): Promise<{ reqPerSec: number; failed: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONC });
  let next = 0;
  let failed = 0;
  const t0 = Date.now();
  await Promise.all(Array.from({ length: CONC }, async () => {
    while (next < n) {
      next++;
      const ok = await new Promise<boolean>((resolve) => {
        http.get({ host, port, path: url, agent }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode === 200)); }).on('error', () => resolve(false));
      });
      if (!ok) failed++;
    }
  }));
  agent.destroy();
  return { reqPerSec: +(n / ((Date.now() - t0) / 1000)).toFixed(1), failed };
}

/** idle RSS of a bare node HTTP server and of HAProxy with one TCP frontend (if installed): the floors */
async function baselines(): Promise<Record<string, unknown>> {
  const bare = spawn(process.execPath, ['-e', "require('http').createServer((q,s)=>s.end('ok')).listen(0,'127.0.0.1',()=>console.log('up'))"], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((r) => bare.stdout!.once('data', r));
  await sleep(1500);
  const out: Record<string, unknown> = { bareNodeHttpServer: mem(bare.pid!) };
  bare.kill();
  // the runtime floor of any Node proxy: what node itself maps for an ECDSA key, a TLS server, an HTTP server and an
  // HTTP/2 client stream, with no meshfed code (the file-backed part is the node binary's code, shared between processes)
  const floor = spawn(process.execPath, ['--max-semi-space-size=1', '-e', `
    const { generateKeyPairSync, X509Certificate } = require('crypto'); const tls = require('tls'); const http = require('http'); const http2 = require('http2');
    generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const s2 = http2.createServer((q, r) => r.end('ok')).listen(0, '127.0.0.1', () => {
      const c = http2.connect('http://127.0.0.1:' + s2.address().port); const st = c.request({ ':path': '/' }); st.resume();
      st.on('end', () => { http.createServer().listen(0, '127.0.0.1'); tls.createServer({}).listen(0, '127.0.0.1'); tls.connect({ host: '127.0.0.1', port: 9, rejectUnauthorized: false }).on('error', () => console.log('up')); });
    });`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((r) => floor.stdout!.once('data', r));
  await sleep(1500);
  out.nodeTlsHttp2Floor = mem(floor.pid!);
  floor.kill();
  if (spawnSync('haproxy', ['-v']).status === 0) {
    const dir = mkdtempSync(join(tmpdir(), 'fp-haproxy-'));
    const port = await new Promise<number>((resolve) => { const s = http.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as AddressInfo).port; s.close(() => resolve(p)); }); });
    writeFileSync(join(dir, 'h.cfg'), `global\n  nbthread 1\ndefaults\n  mode tcp\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\nfrontend f\n  bind 127.0.0.1:${port}\n  default_backend b\nbackend b\n  server s1 127.0.0.1:9\n`);
    const h = spawn('haproxy', ['-db', '-f', join(dir, 'h.cfg')], { stdio: 'ignore' });
    await sleep(1500);
    out.haproxy = h.exitCode === null ? mem(h.pid!) : 'did not start';
    h.kill();
    rmSync(dir, { recursive: true, force: true });
  } else out.haproxy = 'not installed';
  return out;
}

function versionRuns(runs = 10): Record<string, unknown> {
  const time = (args: string[]) => {
    const walls: number[] = [];
    const peaks: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, ...args], { env, encoding: 'utf8' });
      const [wall, kb] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
      walls.push(wall! * 1000); peaks.push(kb! / 1024);
    }
    return { wallMsMedian: Math.round(median(walls)), wallMsMax: Math.round(Math.max(...walls)), peakRssMBMedian: +median(peaks).toFixed(1) };
  };
  return { meshfedVersion: time([MESHFED_BIN, 'version']), bareNode: time(['-e', '0']) };
}

/** `nodeFlags` for the sidecars, `gatewayFlags` for the gateway (default: the same) */
async function dataPlane(nodeFlags: readonly string[], gatewayFlags: readonly string[] = nodeFlags): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'fp-'));
  initCa({ out: dir, clusters: ['c1', 'c2'] });
  const caDir = loadCaDir(join(dir, 'c1'));
  writeFileSync(join(dir, 'root.pem'), caDir.rootCertPem);
  const caServer = new CaServer({ signer: new Signer(caDir), reviewer: { review: async (_c, t) => { const m = /^tok:(.+):(.+)$/.exec(t); return m ? { namespace: m[1]!, serviceAccount: m[2]! } : { reason: 'bad token' }; } }, trustDomain: 'cluster.local', registry: new Registry(), dnsNames: ['localhost'] });
  const ca = `localhost:${await caServer.start(0, '127.0.0.1')}`;
  const pilot = new Pilot({ port: 0, host: '127.0.0.1', debounceMs: 1 });
  await pilot.start();
  const xds = `127.0.0.1:${pilot.port}`;
  const app = await startEcho({ cluster: 'c2', region: 'r2', pod: 'b-0' }, { host: '127.0.0.1', port: 0 });
  const appPort = (app.address() as AddressInfo).port;
  const procs: ChildProcess[] = [];
  const sidecar = async (name: string, ip: string, cluster: string, network: string, region: string) => {
    writeFileSync(join(dir, `tok-${name}`), `tok:demo:${name}\n`);
    const p = startProc(['sidecar', '--xds', xds, '--ca', ca, '--ca-cert', join(dir, 'root.pem'), '--token-file', join(dir, `tok-${name}`), '--cluster', cluster, '--network', network, '--region', region,
      '--namespace', 'demo', '--service-account', name, '--service', `${name}.demo.svc.cluster.local`, '--app-port', String(appPort), '--outbound', `${ip}:0`, '--inbound', `${ip}:0`, '--metrics', `${ip}:0`], nodeFlags);
    procs.push(p.child);
    return { ...(await p.firstLine), pid: p.child.pid!, ip };
  };
  try {
    say(`  starting sidecars (${nodeFlags.join(' ') || 'no V8 flags'}) and gateway (${gatewayFlags.join(' ') || 'no V8 flags'})…`);
    const a = await sidecar('a', '127.0.1.1', 'c1', 'n1', 'r1');
    const b = await sidecar('b', '127.0.2.1', 'c2', 'n2', 'r2');
    const g = startProc(['gateway', '--xds', xds, '--network', 'n2', '--region', 'r2', '--cluster', 'c2', '--listen', '127.0.2.254:0', '--health', '127.0.2.254:0', '--metrics', '127.0.2.254:0'], gatewayFlags);
    procs.push(g.child);
    const gw = { ...(await g.firstLine), pid: g.child.pid! };
    const services = new Map<string, MeshService>();
    const ep = (i: number, cluster: string, network: string, region: string, address: string, inboundPort: number): Endpoint => ({
      cluster, network, locality: { region, zone: `${region}-a`, subZone: '' }, address, ports: { http: appPort }, ready: true, tlsMode: 'istio', inboundPort, serviceAccount: 'b', podName: `p-${i}`, labels: {},
    });
    const svc = (name: string, eps: Endpoint[]): MeshService => ({ namespace: 'demo', name, hostname: `${name}.demo.svc.cluster.local`, ports: [{ name: 'http', port: 8080, protocol: 'TCP', appProtocol: 'http' }], clusters: [...new Set(eps.map((e) => e.cluster))], endpoints: eps, conflicts: [] });
    services.set('demo/b', svc('b', [ep(0, 'c2', 'n2', 'r2', b.ip, b.inbound)]));
    for (let i = 0; i < FILLER_SERVICES; i++) services.set(`demo/s${i}`, svc(`s${i}`, [0, 1, 2].map((k) => ep(k, k ? 'c2' : 'c1', k ? 'n2' : 'n1', k ? 'r2' : 'r1', `127.9.${i}.${k + 1}`, 15006))));
    pilot.setSnapshot(emptySnapshot({ version: 1, builtAt: new Date().toISOString(), services, failover: { r1: ['r2'], r2: ['r1'] }, gateways: [{ network: 'n2', region: 'r2', cluster: 'c2', address: '127.0.2.254', port: gw.listen }] }));
    await until('sidecars and gateway ready', async () => (await ready(a.ip, a.metrics)()) && (await ready(b.ip, b.metrics)()) && (await ready('127.0.2.254', gw.health)()));
    await sleep(3000);
    const idle = { sidecar: mem(a.pid), gateway: mem(gw.pid) };
    await sleep(12_000); // V8's memory reducer shrinks an idle heap after some seconds
    const idle15s = { sidecar: mem(a.pid), gateway: mem(gw.pid) };
    say(`  idle: sidecar ${idle.sidecar.rssMB} MB, gateway ${idle.gateway.rssMB} MB; ${N} requests A → gateway → B…`);
    // CPU per request in each proxy, for the first and the second half of the requests: what a compiler setting
    // costs (while the JIT warms up, and after), independent of the load generator sharing the cores
    const pids = [a.pid, b.pid, gw.pid];
    const half = async () => {
      const cpu0 = pids.map((p) => cpuMs(p) ?? NaN);
      const t = await load(a.ip, a.outbound, 'http://b.demo:8080/', Math.ceil(N / 2));
      const [ca, cb, cg] = pids.map((p, i) => +((((cpuMs(p) ?? NaN) - cpu0[i]!) * 1000) / Math.ceil(N / 2)).toFixed(0));
      return { t, cpu: { sidecarCaller: ca, sidecarCallee: cb, gateway: cg } };
    };
    const h1 = await half();
    const h2 = await half();
    const traffic = { reqPerSec: { firstHalf: h1.t.reqPerSec, secondHalf: h2.t.reqPerSec }, failed: h1.t.failed + h2.t.failed };
    const cpuUsPerRequest = { firstHalf: h1.cpu, secondHalf: h2.cpu };
    await sleep(2000);
    const after = { sidecarCaller: mem(a.pid), sidecarCallee: mem(b.pid), gateway: mem(gw.pid) };
    return { nodeFlags: nodeFlags.join(' '), gatewayNodeFlags: gatewayFlags.join(' '), configuredServices: services.size, idle, idle15s, traffic, cpuUsPerRequest, afterLoad: after };
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => (p.exitCode === null ? new Promise((r) => p.once('exit', r)) : undefined)));
    await pilot.stop();
    await caServer.stop();
    app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

say('floors: bare node, HAProxy…');
const floors = await baselines();
say('meshfed version vs node -e 0…');
const startup = versionRuns();
// BENCH_FOOTPRINT_FLAGS="--a --b|--c" compares other V8 settings (variants separated by |) instead
const variants: Record<string, readonly string[] | { sidecar: readonly string[]; gateway: readonly string[] }> = process.env.BENCH_FOOTPRINT_FLAGS
  ? Object.fromEntries(process.env.BENCH_FOOTPRINT_FLAGS.split('|').map((v) => [v.trim(), v.trim().split(/\s+/).filter(Boolean)]))
  : {
    defaultV8: [],
    // as deployed: each role with its manifest's flags
    manifestV8: { sidecar: PROXY_NODE_FLAGS, gateway: GATEWAY_NODE_FLAGS },
    // the same with V8's own interrupt budget: an operator's --interrupt-budget turns start-up tiering off
    // (src/proxy/startupTiering.ts), so this row shows what it saves, in the same run
    manifestV8WithoutStartupTiering: { sidecar: [...PROXY_NODE_FLAGS, `--interrupt-budget=${DEFAULT_INTERRUPT_BUDGET}`], gateway: [...GATEWAY_NODE_FLAGS, `--interrupt-budget=${DEFAULT_INTERRUPT_BUDGET}`] },
  };
const dataPlanes: Record<string, unknown> = {};
for (const [name, flags] of Object.entries(variants)) {
  say(`data plane, ${name}…`);
  dataPlanes[name] = 'sidecar' in flags ? await dataPlane(flags.sidecar, flags.gateway) : await dataPlane(flags);
}
console.log(JSON.stringify({ floors, startup, dataPlane: dataPlanes }));
process.exit(0);
