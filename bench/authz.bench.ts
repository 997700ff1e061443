// Sidecar inbound authorization cost: requests/s and latency through A's outbound → B's inbound (mTLS) → B with 0, 10
// and 100 AuthorizationPolicies on B, side by side in one process. The configurations alternate in small batches
// (BENCH_BATCH requests each, BENCH_BLOCKS blocks of one batch per configuration, the order rotating per block): on a
// machine whose load swings several-fold within seconds, every configuration sees the same swings, which rounds of
// thousands of requests per configuration did not give.
// The policies are ones a real mesh has: DENY rules for other callers and methods, ALLOW rules for other principals,
// and the last ALLOW rule admits the caller; the sidecar skips the policies that cannot match a request's principal
// and method (src/proxy/rbacIndex.ts). "100 unindexed" is the worst case beside them: 100 policies on IP blocks,
// headers and paths only, which the index cannot rule out, so every one is evaluated for every request.
// Target: 100 policies cost ≤ 10% of requests/s. Prints progress on stderr and one JSON object on the last stdout line.
import os from 'node:os';
import { inboundListener } from '../src/security/inboundListener.ts';
import { packAny, unpackAny, TYPE_URL } from '../src/xds/protos.ts';
import { inboundPolicyFromListener } from '../src/proxy/inboundPolicy.ts';
import type { AuthorizationPolicy } from '../src/security/types.ts';
import { startSidecarPair } from './fixtures/sidecarPair.ts';
import { closedLoop, quantileMs } from './fixtures/closedLoop.ts';

const BATCH = Number(process.env.BENCH_BATCH ?? 200);
const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 40);
const CONC = Number(process.env.BENCH_CONC ?? 8);
/**
 * `unindexed`: the worst case, policies the sidecar's index cannot rule out because they name no principal or method
 * (sources by IP block, conditions on headers and paths): every one is evaluated for every request.
 */
function policies(n: number, unindexed = false): AuthorizationPolicy[] {
  const out: AuthorizationPolicy[] = [];
  for (let i = 0; i < n; i++) {
    const deny = i % 2 === 0;
    const last = i === n - 1;
    const spec: AuthorizationPolicy['spec'] = unindexed
      ? deny
        ? { action: 'DENY', rules: [{ from: [{ source: { ipBlocks: [`192.0.${i}.0/24`] } }, { source: { notIpBlocks: ['127.0.0.0/8'] } }], to: [{ operation: { paths: [`/admin-${i}/*`] } }], when: [{ key: 'request.headers[x-block]', values: [`b-${i}`] }] }] }
        : { action: 'ALLOW', rules: [{ from: [{ source: { ipBlocks: [last ? '127.0.0.1/32' : `10.${i}.0.0/16`] } }], to: [{ operation: { paths: ['/*'] } }], when: [{ key: 'request.headers[x-tenant]', notValues: [`t-${i}`] }] }] }
      : deny
        ? { action: 'DENY', rules: [{ from: [{ source: { principals: [`cluster.local/ns/demo/sa/bad-${i}`], namespaces: ['blocked'] } }, { source: { ipBlocks: ['192.0.2.0/24'] } }], to: [{ operation: { methods: ['DELETE'], paths: [`/admin-${i}/*`] } }] }] }
        : { action: 'ALLOW', rules: [{ from: [{ source: { principals: [last ? 'cluster.local/ns/demo/sa/a' : `cluster.local/ns/demo/sa/client-${i}`] } }], to: [{ operation: { methods: ['GET', 'HEAD'], paths: ['/*'] } }], when: [{ key: 'request.headers[x-tenant]', notValues: [`t-${i}`] }] }] };
    out.push({ kind: 'AuthorizationPolicy', metadata: { namespace: 'demo', name: `p${String(i).padStart(3, '0')}`, generation: 1 }, spec });
  }
  return out;
}
const policyOf = (n: number, unindexed = false) => inboundPolicyFromListener(unpackAny(packAny(TYPE_URL.listener, inboundListener({ authorizationPolicies: policies(n, unindexed), peerAuthentications: [] }, { namespace: 'demo', labels: { app: 'b' } }))));

const { idA, appPort, outPort, inbound, get, close } = await startSidecarPair(CONC);
/** One batch of `n` requests with CONC in flight: its wall and CPU time; latencies are appended to `lat`. */
async function batch(n: number, lat: number[]): Promise<{ wallMs: number; cpuMicros: number }> {
  const r = await closedLoop(n, CONC, () => get(outPort, 'http://b.demo:8080/x'));
  if (r.failed) throw new Error(`${r.failed} requests were not 200: the policies must admit the caller`);
  for (const ms of r.latMs) lat.push(ms);
  // client, outbound, inbound and app share this process: CPU per request is what bounds requests/s at saturation
  return { wallMs: r.secs * 1000, cpuMicros: r.cpuMicros };
}
const configs = [
  { name: 'policies0', policy: policyOf(0) },
  { name: 'policies10', policy: policyOf(10) },
  { name: 'policies100', policy: policyOf(100) },
  { name: 'policies100Unindexed', policy: policyOf(100, true) },
];
process.stderr.write('warm-up…\n');
for (const c of configs) { inbound.setPolicy(c.policy); await batch(BATCH * 5, []); }
const totals = new Map(configs.map((c) => [c.name, { requests: 0, wallMs: 0, cpuMicros: 0, lat: [] as number[], blockRps: [] as number[] }]));
for (let b = 0; b < BLOCKS; b++) {
  if (b % 10 === 0) process.stderr.write(`blocks ${b + 1}–${Math.min(b + 10, BLOCKS)} of ${BLOCKS}…\n`);
  // the order rotates: no configuration always runs first or last in a block
  for (let k = 0; k < configs.length; k++) {
    const c = configs[(b + k) % configs.length]!;
    const t = totals.get(c.name)!;
    inbound.setPolicy(c.policy);
    const r = await batch(BATCH, t.lat);
    t.requests += BATCH; t.wallMs += r.wallMs; t.cpuMicros += r.cpuMicros;
    t.blockRps.push(BATCH / (r.wallMs / 1000));
  }
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const pct = (x: number) => +(x * 100).toFixed(1);
const result: Record<string, unknown> = { batch: BATCH, blocks: BLOCKS, concurrency: CONC, loadAverage: os.loadavg().map((x) => +x.toFixed(1)) };
const rps = (name: string) => { const t = totals.get(name)!; return t.requests / (t.wallMs / 1000); };
const cpuPer = (name: string) => { const t = totals.get(name)!; return t.cpuMicros / t.requests; };
for (const c of configs) {
  const t = totals.get(c.name)!;
  t.lat.sort((x, y) => x - y);
  result[c.name] = { requests: t.requests, reqPerSec: +rps(c.name).toFixed(1), p50ms: quantileMs(t.lat, 0.5), p99ms: quantileMs(t.lat, 0.99), cpuMicrosPerRequest: +cpuPer(c.name).toFixed(1) };
}
const base = totals.get('policies0')!;
for (const name of ['policies10', 'policies100', 'policies100Unindexed']) {
  const suffix = name.slice('policies'.length);
  result[`costOf${suffix}Percent`] = pct(1 - rps(name) / rps('policies0'));
  // the median of the per-block pairs: a block's batches ran back to back, so a busy neighbour hits both alike
  result[`costOf${suffix}PairedPercent`] = pct(median(totals.get(name)!.blockRps.map((x, i) => 1 - x / base.blockRps[i]!)));
  result[`cpuCostOf${suffix}Percent`] = pct(cpuPer(name) / cpuPer('policies0') - 1);
}
// the evaluation alone, without the network: µs per request with 100 policies (indexed, and every one evaluated)
const { evaluateRbac } = await import('../src/proxy/rbacEngine.ts');
const hdrs: Record<string, string> = { ':method': 'GET', ':path': '/x', ':authority': 'b.demo:8080' };
const req = { principal: idA, sourceIp: '127.0.0.1', destinationPort: appPort, headers: (h: string) => hdrs[h], path: '/x' };
const M = 20000;
for (const c of configs.slice(2)) {
  const chain = c.policy.chains.find((ch) => ch.transport === 'tls' && ch.alpn.length === 0)!;
  const ce = process.cpuUsage();
  for (let i = 0; i < M; i++) if (!evaluateRbac(chain.http, req).allowed) throw new Error('not allowed');
  const ceu = process.cpuUsage(ce);
  result[`evaluate${c.name.slice('policies'.length)}CpuMicrosPerRequest`] = +((ceu.user + ceu.system) / M).toFixed(2);
}
await close();
console.log(JSON.stringify(result));
process.exit(0);
