// CA issuance over gRPC (64 concurrent callers, loopback, TLS) side by side with the raw signing limits:
// node crypto building+signing a leaf TBS without gRPC, and `openssl speed ecdsap256` sign/s.
// Token reviews are "cached": a CachingReviewer in front of a fake reviewer that answers instantly — that is
// exactly the cost of a cache hit, not of a real TokenReview round trip.
// The 64 callers run in a child process (CA_BENCH_IN_PROCESS=1: same process); server and callers share the
// machine's 2 cores, so throughput is bounded by 2 cores / (server + client CPU per certificate) — each run
// reports both, the server part split into the certificate work (serverCryptoUsPerCert: parse, key import,
// verify, sign) and the rest (gRPC, HTTP/2, TLS). "rawNodeCryptoLimitPerSec" is bare node crypto on one core:
// JWK import of the CSR key + ECDSA verify of the CSR + ECDSA sign of a leaf-sized TBS, none of our code.
// Runs: CA_BENCH_RUNS="<signing workers>,..." (default 0,1). The callers are our CA client (src/ca/client.ts), as
// proxies use it: since the proxies' lean HTTP/2 client (src/grpc) it is also the cheap load generator that a
// hand-encoded HTTP/2 caller used to be here.
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { createPublicKey, sign, verify } from 'node:crypto';
import * as der from '../src/ca/der.ts';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { initCa, loadCaDir } from '../src/ca/files.ts';
import { Signer } from '../src/ca/signer.ts';
import { CaServer } from '../src/ca/server.ts';
import { CachingReviewer } from '../src/ca/reviewer.ts';
import { createCaClient } from '../src/ca/client.ts';
import { buildCsr, parseCsr } from '../src/ca/csr.ts';
import { generateKey } from '../src/ca/x509.ts';
import { issueForCaller } from '../src/ca/issue.ts';

const N = Number(process.env.CA_BENCH_N ?? 20_000);
const IN_PROCESS = process.env.CA_BENCH_IN_PROCESS === '1';
const CONC = 64;
const log = (s: string): boolean => process.stderr.write(s + '\n');
const pct = (xs: number[], p: number): number => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

type Req = (r: { token: string; cluster: string; csrPem: string }) => Promise<string[]>;

/** 64 concurrent callers, N requests after a warm-up (onWarm: when the measured part starts). */
async function drive(request: Req, csrs: string[], onWarm: () => void = () => {}): Promise<{ lat: number[]; errors: number; secs: number; cpuMs?: number }> {
  const req = (i: number): Promise<string[]> => request({ token: 'tok', cluster: 'east', csrPem: csrs[i % csrs.length] });
  for (let i = 0; i < 200; i++) await req(i); // warm-up (connection, JIT, signing worker)
  onWarm();
  const lat: number[] = [];
  let next = 0; let errors = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CONC }, async () => {
    while (next < N) {
      const i = next++;
      const s = process.hrtime.bigint();
      try { await req(i); } catch { errors++; }
      lat.push(Number(process.hrtime.bigint() - s) / 1e6);
      if (i % 5000 === 0) log(`  ${i}/${N}`);
    }
  }));
  return { lat, errors, secs: Number(process.hrtime.bigint() - t0) / 1e9 };
}

async function driveInChild(address: string, rootPem: string, csrs: string[], onWarm: () => void): Promise<{ lat: number[]; errors: number; secs: number; cpuMs?: number }> {
  const f = join(dir, 'job.json');
  writeFileSync(f, JSON.stringify({ address, rootPem, csrs }));
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], { env: { ...process.env, CA_BENCH_CLIENT_JOB: f }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let warm = false;
  child.stdout.on('data', (d) => { out += d; if (!warm && out.includes('warm\n')) { warm = true; onWarm(); } });
  const code = await new Promise<number | null>((r) => child.on('close', r));
  if (code !== 0) throw new Error(`bench client process exited ${code}`);
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as { lat: number[]; errors: number; secs: number; cpuMs?: number };
}

if (process.env.CA_BENCH_CLIENT_JOB) {
  const { readFileSync } = await import('node:fs');
  const job = JSON.parse(readFileSync(process.env.CA_BENCH_CLIENT_JOB, 'utf8')) as { address: string; rootPem: string; csrs: string[] };
  const client = createCaClient({ address: job.address, caCertPem: job.rootPem, deadlineMs: 30_000 });
  let c0 = process.cpuUsage();
  const r = await drive(client.request, job.csrs, () => { c0 = process.cpuUsage(); process.stdout.write('warm\n'); });
  const c = process.cpuUsage(c0);
  client.close();
  process.stdout.write(JSON.stringify({ ...r, cpuMs: (c.user + c.system) / 1000 }) + '\n');
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'ca-bench-'));
try {
  initCa({ out: dir, clusters: ['east'] });
  const m = loadCaDir(join(dir, 'east'));
  const signer = new Signer(m);
  const id = 'spiffe://cluster.local/ns/bench/sa/load';
  log(`making ${CONC * 4} ECDSA P-256 CSRs beforehand`);
  const csrs = Array.from({ length: CONC * 4 }, () => buildCsr(generateKey(), [id]));

  // 1. raw node crypto: parse+verify CSR, build+sign leaf (what the server does per request, minus gRPC/TLS)
  const spki = parseCsr(csrs[0]).spki;
  const rawN = 20_000;
  let t = process.hrtime.bigint();
  for (let i = 0; i < rawN; i++) signer.issueLeaf(spki, { uris: [id] });
  const rawSignPerSec = rawN / (Number(process.hrtime.bigint() - t) / 1e9);
  t = process.hrtime.bigint();
  const issueCpu0 = process.cpuUsage();
  for (let i = 0; i < rawN / 4; i++) issueForCaller(signer, { csrPem: csrs[i % csrs.length], expectedUri: id, validitySeconds: 0 });
  const issueCpu = process.cpuUsage(issueCpu0);
  const rawParseSignPerSec = rawN / 4 / (Number(process.hrtime.bigint() - t) / 1e9);
  // CPU µs of the server's certificate work (parse, key import, verify, identity check, build, sign, PEM)
  const serverCryptoUsPerCert = (issueCpu.user + issueCpu.system) / (rawN / 4);
  log(`node crypto: ${rawSignPerSec.toFixed(0)} leaf signs/s, ${rawParseSignPerSec.toFixed(0)} CSR verify+sign/s`);

  // 1b. the limit: bare node-crypto work per certificate, none of our code — import the CSR key, verify the CSR
  // signature, sign a leaf-sized TBS with the intermediate key
  const bare = csrs.map((p) => {
    const top = der.children(der.read(der.pemToDer(p, 'CERTIFICATE REQUEST')));
    return { info: top[0].raw, sig: top[2].value.subarray(1), jwk: parseCsr(p).publicKey.export({ format: 'jwk' }) };
  });
  const tbs = Buffer.alloc(420, 7);
  const bareCpu0 = process.cpuUsage();
  t = process.hrtime.bigint();
  for (let i = 0; i < rawN / 4; i++) {
    const b = bare[i % bare.length];
    if (!verify('sha256', b.info, createPublicKey({ key: b.jwk, format: 'jwk' }), b.sig)) throw new Error('bench CSR does not verify');
    sign('sha256', tbs, signer.issuer.key);
  }
  const rawCryptoLimitPerSec = rawN / 4 / (Number(process.hrtime.bigint() - t) / 1e9);
  const bareCpu = process.cpuUsage(bareCpu0);
  // per CPU-second: comparable with the server's figure below even when other processes share the cores
  const rawCryptoPerCpuSec = rawN / 4 / ((bareCpu.user + bareCpu.system) / 1e6);
  log(`bare node crypto (key import + verify + sign): ${rawCryptoLimitPerSec.toFixed(0)}/s on one core`);

  // 2. openssl's own ECDSA P-256 sign rate, one core
  let opensslSignPerSec: number | null = null;
  try {
    const out = execFileSync('openssl', ['speed', '-seconds', '2', 'ecdsap256'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    const row = out.split('\n').find((l) => /256 bits ecdsa \(nistp256\)/.test(l));
    const nums = row?.trim().split(/\s+/).filter((x) => /^[\d.]+$/.test(x)).map(Number) ?? [];
    opensslSignPerSec = nums.length >= 3 ? nums[nums.length - 2] : null;
  } catch { opensslSignPerSec = null; }
  log(`openssl speed ecdsap256: ${opensslSignPerSec} sign/s`);

  // 3. over gRPC with TLS, 64 concurrent callers; once per signing-worker setting (0 = sign in the gRPC thread)
  const runGrpc = async (signingWorkers: number): Promise<Record<string, number | string | null>> => {
    const registry = new Registry();
    const server = new CaServer({ signer, reviewer: new CachingReviewer({ async review() { return { namespace: 'bench', serviceAccount: 'load' }; } }), trustDomain: 'cluster.local', registry, dnsNames: ['localhost'], signingWorkers });
    const port = await server.start(0, '127.0.0.1');
    const client = createCaClient({ address: `localhost:${port}`, caCertPem: m.rootCertPem, deadlineMs: 30_000 });
    log(`gRPC, ${CONC} callers, signing workers: ${signingWorkers}`);
    // CPU counted from the end of the callers' warm-up, like their latencies
    let s0 = process.cpuUsage();
    const warm = (): void => { s0 = process.cpuUsage(); };
    const { lat, errors, secs, cpuMs: clientCpuMs } = IN_PROCESS
      ? await drive(client.request, csrs, warm)
      : await driveInChild(`localhost:${port}`, m.rootCertPem, csrs, warm);
    const sc = process.cpuUsage(s0);
    lat.sort((a, b) => a - b);
    client.close();
    await server.stop();
    const r = {
      signingWorkers, errors,
      certsPerSec: Math.round(N / secs), p50Ms: +pct(lat, 50).toFixed(2), p99Ms: +pct(lat, 99).toFixed(2),
      // CPU seconds per wall second during the gRPC run (1.0 = one core busy); per certificate in µs
      serverCpuCores: +(((sc.user + sc.system) / 1e6) / secs).toFixed(2),
      clientCpuCores: clientCpuMs !== undefined ? +((clientCpuMs / 1000) / secs).toFixed(2) : null,
      serverCpuUsPerCert: Math.round((sc.user + sc.system) / N),
      clientCpuUsPerCert: clientCpuMs !== undefined ? Math.round((clientCpuMs * 1000) / N) : null,
      // server CPU beyond the certificate work: gRPC, HTTP/2, TLS, our handler (and the pool's messaging)
      serverGrpcTlsUsPerCert: Math.round((sc.user + sc.system) / N - serverCryptoUsPerCert),
      // what 2 cores could do if server and callers kept both busy at these CPU costs
      twoCoreCeilingPerSec: clientCpuMs !== undefined ? Math.round(2e6 / ((sc.user + sc.system) / N + (clientCpuMs * 1000) / N)) : null,
    };
    log(JSON.stringify(r));
    return r;
  };
  // runs: signing workers per run, e.g. CA_BENCH_RUNS=0,1
  const grpcRuns: Array<Record<string, number | string | null>> = [];
  for (const spec of (process.env.CA_BENCH_RUNS ?? '0,1').split(',')) {
    if (!/^\d+$/.test(spec)) throw new Error(`CA_BENCH_RUNS: a number of signing workers per run, e.g. 0,1; got ${spec}`);
    grpcRuns.push(await runGrpc(Number(spec)));
  }
  const best = grpcRuns.reduce((a, b) => (Number(b.certsPerSec) > Number(a.certsPerSec) ? b : a));
  const result = {
    n: N, concurrency: CONC,
    grpcCertsPerSec: best.certsPerSec, p50Ms: best.p50Ms, p99Ms: best.p99Ms, bestSigningWorkers: best.signingWorkers,
    grpcRuns,
    rawNodeLeafSignPerSec: Math.round(rawSignPerSec), rawNodeCsrVerifyAndSignPerSec: Math.round(rawParseSignPerSec),
    rawNodeCryptoLimitPerSec: Math.round(rawCryptoLimitPerSec),
    serverCryptoUsPerCert: Math.round(serverCryptoUsPerCert),
    opensslEcdsaP256SignPerSec: opensslSignPerSec,
    rawNodeCryptoPerCpuSec: Math.round(rawCryptoPerCpuSec),
    loadAverage1m: +loadavg()[0].toFixed(1),
    callers: IN_PROCESS ? 'same process' : 'child process',
    note: 'token review = cache hit (instant fake behind CachingReviewer); TLS gRPC on loopback; 2-core machine',
  };
  log(JSON.stringify(result));
  process.stdout.write(JSON.stringify(result) + '\n');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
