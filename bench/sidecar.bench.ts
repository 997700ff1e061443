// Sidecar-to-sidecar mTLS HTTP (A → A's outbound → B's inbound → B) vs plain direct HTTP, side by side.
// Prints progress on stderr and one JSON object on the last stdout line.
import http from 'node:http';
import net from 'node:net';
import { startInbound } from '../src/proxy/sidecarInbound.ts';
import { Outbound } from '../src/proxy/sidecarOutbound.ts';
import { newRegistry } from '../src/observe/metrics.ts';
import { createLogger } from '../src/log.ts';
import { gatewaySni, spiffeId } from '../src/mesh/names.ts';
import { meshCa } from '../test/helpers/tlsCerts.ts';

const N = Number(process.env.BENCH_N ?? 3000);
const CONC = Number(process.env.BENCH_CONC ?? 8);
const log = createLogger('bench', { level: 'silent' });
const ca = meshCa();
const idA = spiffeId('cluster.local', 'demo', 'a');
const idB = spiffeId('cluster.local', 'demo', 'b');
const a = ca.leaf(idA);
const b = ca.leaf(idB);

const app = http.createServer((_req, res) => res.end('ok'));
await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
const appPort = (app.address() as net.AddressInfo).port;
const inbound = await startInbound({ host: '127.0.0.1', port: 0, appPort, ownId: idB, trustDomain: 'cluster.local', destinationService: 'b', tls: { ...b, ca: ca.root }, registry: newRegistry(), log });
const out = new Outbound({ host: '127.0.0.1', port: 0, namespace: 'demo', sourceWorkload: 'a', trustDomain: 'cluster.local', tls: { ...a, ca: ca.root }, registry: newRegistry(), log });
out.setEndpoints(new Map([[gatewaySni('b.demo.svc.cluster.local', 8080), [{ address: '127.0.0.1', port: inbound.port, healthy: true }]]]));
const outPort = await out.listen();

const agent = new http.Agent({ keepAlive: true, maxSockets: CONC });
function once(port: number, path: string): Promise<number> {
  const t = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent }, (res) => { res.resume(); res.on('end', () => resolve(Number(process.hrtime.bigint() - t) / 1e6)); }).on('error', reject);
  });
}
async function run(port: number, path: string) {
  const lat: number[] = [];
  let next = 0;
  const t0 = Date.now();
  await Promise.all(Array.from({ length: CONC }, async () => { while (next < N) { next++; lat.push(await once(port, path)); } }));
  const secs = (Date.now() - t0) / 1000;
  lat.sort((x, y) => x - y);
  const p = (q: number) => +lat[Math.min(lat.length - 1, Math.floor(q * lat.length))]!.toFixed(3);
  return { reqPerSec: +(N / secs).toFixed(1), p50ms: p(0.5), p99ms: p(0.99) };
}
process.stderr.write('warm-up…\n');
await run(appPort, '/'); await run(outPort, 'http://b.demo:8080/');
process.stderr.write('direct…\n');
const direct = await run(appPort, '/');
process.stderr.write('sidecar→sidecar…\n');
const mesh = await run(outPort, 'http://b.demo:8080/');
agent.destroy();
await out.close(); await inbound.close(); app.close();
console.log(JSON.stringify({ requests: N, concurrency: CONC, directHttp: direct, sidecarMtls: mesh }));
process.exit(0);
