// Sidecar-to-sidecar mTLS HTTP (A → A's outbound → B's inbound → B) vs plain direct HTTP, side by side.
// Prints progress on stderr and one JSON object on the last stdout line.
import { startSidecarPair } from './fixtures/sidecarPair.ts';
import { closedLoop, throughputFigures } from './fixtures/closedLoop.ts';

const N = Number(process.env.BENCH_N ?? 3000);
const CONC = Number(process.env.BENCH_CONC ?? 8);
const pair = await startSidecarPair(CONC);

async function run(port: number, path: string) {
  const r = await closedLoop(N, CONC, () => pair.get(port, path));
  if (r.failed) throw new Error(`${r.failed} of ${N} requests to port ${port} failed or were not 200`);
  return throughputFigures(r, N);
}
process.stderr.write('warm-up…\n');
await run(pair.appPort, '/'); await run(pair.outPort, 'http://b.demo:8080/');
process.stderr.write('direct…\n');
const direct = await run(pair.appPort, '/');
process.stderr.write('sidecar→sidecar…\n');
const mesh = await run(pair.outPort, 'http://b.demo:8080/');
await pair.close();
console.log(JSON.stringify({ requests: N, concurrency: CONC, directHttp: direct, sidecarMtls: mesh }));
process.exit(0);
