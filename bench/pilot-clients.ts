// Child process of bench/pilot.bench.ts: the 100 ADS clients, kept out of the pilot's process so that its CPU and
// RSS are pilot's own. stdin "go" → subscribe all streams to EDS; prints one JSON line per round when every
// stream has received (and ACKed) a response: {"round":n,"at":<wall-clock ms>}. Round 0 is the full push.
import { createInterface } from 'node:readline';
import { AdsClient } from '../test/helpers/rawAdsClient.ts';
import { TYPE_URL } from '../src/xds/protos.ts';

const [addr, streamsArg, namesArg] = process.argv.slice(2);
const names = (namesArg ?? '').split(',');
// BENCH_PILOT_CONN: "shared" = grpc-js's default, every client on one HTTP/2 connection (its 64 KB window makes the
// 100 responses queue behind WINDOW_UPDATE round trips); "own" = one connection per proxy, as 100 real proxies have;
// BENCH_PILOT_WINDOW: the receive window (Envoy's default is 256 MiB per stream)
const own = (process.env.BENCH_PILOT_CONN ?? 'own') === 'own';
const windowBytes = Number(process.env.BENCH_PILOT_WINDOW ?? 0);
const options = { ...(own ? { 'grpc.use_local_subchannel_pool': 1 } : {}), ...(windowBytes ? { 'grpc-node.flow_control_window': windowBytes } : {}) };
const clients = Array.from({ length: Number(streamsArg) }, (_, i) => new AdsClient(addr!, { id: `b${i}`, locality: { region: 'r0', zone: 'z0' }, metadata: { NETWORK: 'n1' } }, undefined, options));
const wall = () => performance.timeOrigin + performance.now();

const lines = createInterface({ input: process.stdin });
lines.once('line', async () => {
  for (const c of clients) c.send(TYPE_URL.endpoint, names);
  for (let round = 0; ; round++) {
    try {
      await Promise.all(clients.map(async (c) => {
        const r = await c.next(round === 0 ? 240_000 : 60_000);
        c.send(TYPE_URL.endpoint, names, { version: r.version_info, nonce: r.nonce });
      }));
    } catch (e) {
      process.stderr.write(`pilot-clients: ${(e as Error).message}\n`);
      process.exit(1);
    }
    process.stdout.write(JSON.stringify({ round, at: wall() }) + '\n');
  }
});
lines.on('close', () => {
  for (const c of clients) c.close();
  process.exit(0);
});
