// CA issuance over gRPC (64 concurrent callers, loopback, TLS) side by side with the raw signing limits:
// node crypto building+signing a leaf TBS without gRPC, and `openssl speed ecdsap256` sign/s.
// Token reviews are "cached": a CachingReviewer in front of a fake reviewer that answers instantly — that is
// exactly the cost of a cache hit, not of a real TokenReview round trip.
// The 64 callers run in a child process (CA_BENCH_IN_PROCESS=1: same process), so server and load generator
// each get one of the machine's 2 cores.
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { initCa, loadCaDir } from '../src/ca/files.ts';
import { Signer } from '../src/ca/signer.ts';
import { CaServer } from '../src/ca/server.ts';
import { CachingReviewer } from '../src/ca/reviewer.ts';
import { createCaClient } from '../src/ca/client.ts';
import { buildCsr, parseCsr } from '../src/ca/csr.ts';
import { generateKey } from '../src/ca/x509.ts';

const N = Number(process.env.CA_BENCH_N ?? 20_000);
const IN_PROCESS = process.env.CA_BENCH_IN_PROCESS === '1';
const CONC = 64;
const log = (s: string): boolean => process.stderr.write(s + '\n');
const pct = (xs: number[], p: number): number => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

type Req = (r: { token: string; cluster: string; csrPem: string }) => Promise<string[]>;

/** 64 concurrent callers, N requests after a warm-up. */
async function drive(request: Req, csrs: string[]): Promise<{ lat: number[]; errors: number; secs: number; cpuSecs: number }> {
  const req = (i: number): Promise<string[]> => request({ token: 'tok', cluster: 'east', csrPem: csrs[i % csrs.length] });
  for (let i = 0; i < 200; i++) await req(i); // warm-up
  const lat: number[] = [];
  let next = 0; let errors = 0;
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  await Promise.all(Array.from({ length: CONC }, async () => {
    while (next < N) {
      const i = next++;
      const s = process.hrtime.bigint();
      try { await req(i); } catch { errors++; }
      lat.push(Number(process.hrtime.bigint() - s) / 1e6);
      if (i % 5000 === 0) log(`  ${i}/${N}`);
    }
  }));
  const c = process.cpuUsage(c0);
  return { lat, errors, secs: Number(process.hrtime.bigint() - t0) / 1e9, cpuSecs: (c.user + c.system) / 1e6 };
}

async function driveInChild(address: string, rootPem: string, csrs: string[]): Promise<{ lat: number[]; errors: number; secs: number; cpuSecs: number }> {
  const f = join(dir, 'job.json');
  writeFileSync(f, JSON.stringify({ address, rootPem, csrs }));
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], { env: { ...process.env, CA_BENCH_CLIENT_JOB: f }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  if (code !== 0) throw new Error(`bench client process exited ${code}`);
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as { lat: number[]; errors: number; secs: number; cpuSecs: number };
}

if (process.env.CA_BENCH_CLIENT_JOB) {
  const { readFileSync } = await import('node:fs');
  const job = JSON.parse(readFileSync(process.env.CA_BENCH_CLIENT_JOB, 'utf8')) as { address: string; rootPem: string; csrs: string[] };
  const client = createCaClient({ address: job.address, caCertPem: job.rootPem, deadlineMs: 30_000 });
  const r = await drive(client.request, job.csrs);
  client.close();
  process.stdout.write(JSON.stringify(r) + '\n');
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
  for (let i = 0; i < rawN / 4; i++) signer.issueFromCsr(csrs[i % csrs.length], id);
  const rawParseSignPerSec = rawN / 4 / (Number(process.hrtime.bigint() - t) / 1e9);
  log(`node crypto: ${rawSignPerSec.toFixed(0)} leaf signs/s, ${rawParseSignPerSec.toFixed(0)} CSR verify+sign/s`);

  // 2. openssl's own ECDSA P-256 sign rate, one core
  let opensslSignPerSec: number | null = null;
  try {
    const out = execFileSync('openssl', ['speed', '-seconds', '2', 'ecdsap256'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    const row = out.split('\n').find((l) => /256 bits ecdsa \(nistp256\)/.test(l));
    const nums = row?.trim().split(/\s+/).filter((x) => /^[\d.]+$/.test(x)).map(Number) ?? [];
    opensslSignPerSec = nums.length >= 3 ? nums[nums.length - 2] : null;
  } catch { opensslSignPerSec = null; }
  log(`openssl speed ecdsap256: ${opensslSignPerSec} sign/s`);

  // 3. over gRPC with TLS, 64 concurrent callers
  const registry = new Registry();
  const server = new CaServer({ signer, reviewer: new CachingReviewer({ async review() { return { namespace: 'bench', serviceAccount: 'load' }; } }), trustDomain: 'cluster.local', registry, dnsNames: ['localhost'] });
  const port = await server.start(0, '127.0.0.1');
  const client = createCaClient({ address: `localhost:${port}`, caCertPem: m.rootCertPem, deadlineMs: 30_000 });
  const s0 = process.cpuUsage();
  const { lat, errors, secs, cpuSecs } = IN_PROCESS
    ? await drive(client.request, csrs)
    : await driveInChild(`localhost:${port}`, m.rootCertPem, csrs);
  const sc = process.cpuUsage(s0);
  const serverCpuSecs = (sc.user + sc.system) / 1e6;
  lat.sort((a, b) => a - b);
  client.close();
  await server.stop();
  const result = {
    n: N, concurrency: CONC, errors,
    grpcCertsPerSec: Math.round(N / secs), p50Ms: +pct(lat, 50).toFixed(2), p99Ms: +pct(lat, 99).toFixed(2),
    // CPU seconds used per second of the run (1.0 = one full core); server includes warm-up of the child's 200 calls
    serverCpuCores: IN_PROCESS ? null : +(serverCpuSecs / secs).toFixed(2), clientCpuCores: +(cpuSecs / secs).toFixed(2),
    serverCpuUsPerCert: IN_PROCESS ? null : Math.round((serverCpuSecs * 1e6) / N), clientCpuUsPerCert: Math.round((cpuSecs * 1e6) / N),
    rawNodeLeafSignPerSec: Math.round(rawSignPerSec), rawNodeCsrVerifyAndSignPerSec: Math.round(rawParseSignPerSec),
    opensslEcdsaP256SignPerSec: opensslSignPerSec,
    callers: IN_PROCESS ? 'same process' : 'child process',
    note: 'token review = cache hit (instant fake behind CachingReviewer); TLS gRPC on loopback; 2-core machine',
  };
  log(JSON.stringify(result));
  process.stdout.write(JSON.stringify(result) + '\n');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
