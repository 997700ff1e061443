// Sidecar inbound authorization cost: requests/s and latency through A's outbound → B's inbound (mTLS) → B with 0, 10
// and 100 AuthorizationPolicies on B, side by side and interleaved over several rounds (median per configuration).
// Every policy is evaluated for every request: half DENY rules that never match the caller, half ALLOW rules for other
// principals, and the last ALLOW rule admits the caller. Target: 100 policies cost ≤ 10% of requests/s.
// Prints progress on stderr and one JSON object on the last stdout line.
import { inboundListener } from '../src/security/inboundListener.ts';
import { packAny, unpackAny, TYPE_URL } from '../src/xds/protos.ts';
import { inboundPolicyFromListener } from '../src/proxy/inboundPolicy.ts';
import type { AuthorizationPolicy } from '../src/security/types.ts';
import { startSidecarPair } from './fixtures/sidecarPair.ts';
import { closedLoop, throughputFigures } from './fixtures/closedLoop.ts';

const N = Number(process.env.BENCH_N ?? 3000);
const CONC = Number(process.env.BENCH_CONC ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

function policies(n: number): AuthorizationPolicy[] {
  const out: AuthorizationPolicy[] = [];
  for (let i = 0; i < n; i++) {
    const deny = i % 2 === 0;
    const last = i === n - 1;
    out.push({
      kind: 'AuthorizationPolicy', metadata: { namespace: 'demo', name: `p${String(i).padStart(3, '0')}`, generation: 1 },
      spec: deny
        ? { action: 'DENY', rules: [{ from: [{ source: { principals: [`cluster.local/ns/demo/sa/bad-${i}`], namespaces: ['blocked'] } }, { source: { ipBlocks: ['192.0.2.0/24'] } }], to: [{ operation: { methods: ['DELETE'], paths: [`/admin-${i}/*`] } }] }] }
        : { action: 'ALLOW', rules: [{ from: [{ source: { principals: [last ? 'cluster.local/ns/demo/sa/a' : `cluster.local/ns/demo/sa/client-${i}`] } }], to: [{ operation: { methods: ['GET', 'HEAD'], paths: ['/*'] } }], when: [{ key: 'request.headers[x-tenant]', notValues: [`t-${i}`] }] }] },
    });
  }
  return out;
}
const policyOf = (n: number) => inboundPolicyFromListener(unpackAny(packAny(TYPE_URL.listener, inboundListener({ authorizationPolicies: policies(n), peerAuthentications: [] }, { namespace: 'demo', labels: { app: 'b' } }))));

const { idA, appPort, outPort, inbound, get, close } = await startSidecarPair(CONC);
async function run() {
  const r = await closedLoop(N, CONC, () => get(outPort, 'http://b.demo:8080/x'));
  if (r.failed) throw new Error(`${r.failed} requests were not 200: the policies must admit the caller`);
  // client, outbound, inbound and app share this process: CPU per request is what bounds requests/s at saturation,
  // and it is far less disturbed by other processes on a busy machine than wall-clock throughput
  return { ...throughputFigures(r, N), cpuMicrosPerRequest: +(r.cpuMicros / N).toFixed(1) };
}
const configs = [0, 10, 100];
const compiled = new Map(configs.map((n) => [n, policyOf(n)]));
process.stderr.write('warm-up…\n');
for (const n of configs) { inbound.setPolicy(compiled.get(n)!); await run(); }
const rounds = new Map<number, Awaited<ReturnType<typeof run>>[]>(configs.map((n) => [n, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const n of configs) {
    inbound.setPolicy(compiled.get(n)!);
    process.stderr.write(`round ${r + 1}/${ROUNDS}: ${n} policies…\n`);
    rounds.get(n)!.push(await run());
  }
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const result: Record<string, unknown> = { requests: N, concurrency: CONC, rounds: ROUNDS };
for (const n of configs) {
  const rs = rounds.get(n)!;
  result[`policies${n}`] = { reqPerSec: median(rs.map((x) => x.reqPerSec)), p50ms: median(rs.map((x) => x.p50ms)), p99ms: median(rs.map((x) => x.p99ms)), cpuMicrosPerRequest: median(rs.map((x) => x.cpuMicrosPerRequest)), perRound: rs.map((x) => x.reqPerSec) };
}
const cpu0 = (result.policies0 as { cpuMicrosPerRequest: number }).cpuMicrosPerRequest;
const cpu100 = (result.policies100 as { cpuMicrosPerRequest: number }).cpuMicrosPerRequest;
result.cpuCostOf100Percent = +((cpu100 / cpu0 - 1) * 100).toFixed(1);
const r0 = (result.policies0 as { reqPerSec: number }).reqPerSec;
const r100 = (result.policies100 as { reqPerSec: number }).reqPerSec;
result.costOf100Percent = +((1 - r100 / r0) * 100).toFixed(1);
// the evaluation alone, without the network: µs per request with 100 policies
const { evaluateRbac } = await import('../src/proxy/rbacEngine.ts');
const chain = compiled.get(100)!.chains.find((c) => c.transport === 'tls' && c.alpn.length === 0)!;
const hdrs: Record<string, string> = { ':method': 'GET', ':path': '/x', ':authority': 'b.demo:8080' };
const req = { principal: idA, sourceIp: '127.0.0.1', destinationPort: appPort, headers: (h: string) => hdrs[h], path: '/x' };
const M = 20000;
const ce = process.cpuUsage();
for (let i = 0; i < M; i++) if (!evaluateRbac(chain.http, req).allowed) throw new Error('not allowed');
const ceu = process.cpuUsage(ce);
result.evaluate100CpuMicrosPerRequest = +((ceu.user + ceu.system) / M).toFixed(2);
await close();
console.log(JSON.stringify(result));
process.exit(0);
