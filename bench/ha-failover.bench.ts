// The control plane's high availability as proxies see it: 2 `meshfed control-plane` replicas (processes) and 100
// sidecar xDS clients (the proxies' XdsClient, each naming both replicas), in front of one API stand-in. KILLS times:
// kill -9 the leader while an echo endpoint changes, then measure
//   - takeover: kill → the other replica holds the Lease (at the stand-in);
//   - reconnect: per client that was on the killed replica, kill → its stream open at the other (the survivor's view);
//   - change: per client, the endpoint change's request sent → the client's table has it (the 2 s contract);
// and restart the killed replica (same xDS port) before the next kill, so every later kill moves all 100 clients, to
// a replica started a few seconds before (ready, but no proxy had connected to it yet: a cold process). The clients
// share this one process (in production each proxy is its own), which handles all 100 reconnects at once.
// client-go's lease timing by default (15 s / 10 s / 2 s); BENCH_LEASE="4s,3s,500ms" for a shorter run.
// Run it in a network namespace: `unshare -n bash -c 'ip link set lo up; npm run bench -- ha-failover'`.
import { startHaMesh, killLeaderDuringChange } from '../test/helpers/haMesh.ts';
import { until } from '../test/helpers/controlPlaneReplica.ts';
import { parseDuration } from '../src/controlplane/leaderElectionFlags.ts';
import { percentile } from '../src/playground/failoverStats.ts';

const KILLS = Number(process.env.BENCH_HA_KILLS ?? 10);
const CLIENTS = Number(process.env.BENCH_HA_CLIENTS ?? 100);
const [lease, renew, retry] = (process.env.BENCH_LEASE ?? '15s,10s,2s').split(',').map((d, i) => parseDuration(['lease', 'renew', 'retry'][i]!, d.trim())) as [number, number, number];
const log = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ms = (x: number) => Math.round(x);
const stats = (xs: number[]) => ({ p50: ms(percentile(xs, 50)), p99: ms(percentile(xs, 99)), max: ms(Math.max(...xs)), n: xs.length });

const mesh = await startHaMesh({ slots: 2, subnet: 94, replicaArgs: ['--leader-elect-lease-duration', `${lease}ms`, '--leader-elect-renew-deadline', `${renew}ms`, '--leader-elect-retry-period', `${retry}ms`] });
const takeovers: number[] = [];
const reconnects: number[] = [];
const changes: number[] = [];
const perKill: Array<{ takeoverMs: number; moved: number; reconnectP50: number; reconnectMax: number; changeMax: number }> = [];
let lost = 0;
let stray = 0;
try {
  await Promise.all([mesh.start(0), mesh.start(1)]);
  const clients = mesh.clients(CLIENTS);
  await until('every client to have the echo endpoints', 60_000, () => clients.every((c) => c.healthy === mesh.echo.length));
  for (let k = 0; k < KILLS; k++) {
    // kill at a random point of the renew cycle
    await sleep(Math.random() * retry);
    const m = await killLeaderDuringChange(mesh, clients, { waitMs: lease + 30_000 });
    takeovers.push(m.takeoverMs);
    reconnects.push(...m.reconnectMs);
    changes.push(...m.changeMs);
    perKill.push({ takeoverMs: ms(m.takeoverMs), moved: m.moved, reconnectP50: ms(percentile(m.reconnectMs, 50)), reconnectMax: ms(Math.max(...m.reconnectMs)), changeMax: ms(Math.max(...m.changeMs)) });
    lost += m.lost;
    stray += m.stray;
    log(`kill ${k + 1}/${KILLS}: ${m.killed.id} killed, takeover ${ms(m.takeoverMs)} ms; ${m.moved} clients moved, reconnect p50 ${ms(percentile(m.reconnectMs, 50))} max ${ms(Math.max(...m.reconnectMs))} ms; change → every client max ${ms(Math.max(...m.changeMs))} ms`);
    const empty = mesh.replicas.findIndex((r) => r === undefined);
    await mesh.start(empty);
  }
} finally {
  await mesh.close();
}
process.stdout.write(JSON.stringify({
  leaseDurationS: lease / 1000, renewDeadlineS: renew / 1000, retryPeriodS: retry / 1000, kills: KILLS, clients: CLIENTS,
  takeoverMs: { p50: ms(percentile(takeovers, 50)), max: ms(Math.max(...takeovers)), all: takeovers.map(ms) },
  reconnectMs: stats(reconnects),
  edsChangeMs: { ...stats(changes), within2s: changes.filter((x) => x <= 2000).length },
  clientsThatLostConfig: lost, clientsNotOnSurvivor: stray, perKill,
}) + '\n');
