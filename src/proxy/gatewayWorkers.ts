// `meshfed gateway --workers N`: N gateway processes accepting on one port (Node's cluster module with the kernel
// distributing connections: SCHED_NONE, every worker accepts on the shared socket, no hand-off through the primary).
// The primary holds no xDS or TLS: it serves /healthz/ready (ready when every worker is) and /stats/prometheus (the
// workers' metrics summed by prom-client's AggregatorRegistry), restarts a worker that dies, and drains all on SIGTERM.
import cluster, { type Worker } from 'node:cluster';
import AggregatorRegistry from 'prom-client/lib/cluster.js';
import type { Registry } from '../observe/metrics.ts';
import { createLogger } from '../log.ts';
import { startAdminServer, type MetricsSource } from './adminServer.ts';

export type WorkerMessage = { meshfedGateway: 'ready' | 'not-ready' };

const isWorkerMessage = (m: unknown): m is WorkerMessage => typeof m === 'object' && m !== null && 'meshfedGateway' in m;

/** In a worker: report readiness changes to the primary and expose this worker's registry for aggregation. */
export function reportToPrimary(registry: Registry, ready: () => boolean): () => void {
  // constructing one installs prom-client's listener that answers the primary's metrics requests
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  let last: boolean | undefined;
  const tick = () => {
    const now = ready();
    if (now !== last) process.send?.({ meshfedGateway: now ? 'ready' : 'not-ready' } satisfies WorkerMessage);
    last = now;
  };
  tick();
  const timer = setInterval(tick, 100);
  timer.unref();
  return () => clearInterval(timer);
}

export interface PrimaryOptions {
  workers: number;
  health: { host: string; port: number };
  metrics: { host: string; port: number };
  drainMs: number;
  onListening: (line: string) => void;
}

/** The primary: forks the workers (they run this same command line) and waits for SIGTERM/SIGINT. */
export async function runGatewayPrimary(o: PrimaryOptions): Promise<number> {
  const log = createLogger('gateway');
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  const ready = new Map<number, boolean>();
  let stopping = false;
  let listen = 0;
  let restarts = 0;
  const fork = (): Worker => {
    const w = cluster.fork({ MESHFED_GATEWAY_WORKER: '1' });
    ready.set(w.id, false);
    w.on('message', (m: unknown) => { if (isWorkerMessage(m)) ready.set(w.id, m.meshfedGateway === 'ready'); });
    w.on('listening', (addr) => { if (!listen && addr.port) listen = addr.port; });
    return w;
  };
  cluster.on('exit', (w, code, signal) => {
    ready.delete(w.id);
    if (stopping) return;
    restarts++;
    log.warn({ worker: w.id, code, signal, restarts }, 'gateway worker exited; starting another');
    setTimeout(fork, Math.min(5000, 200 * 2 ** Math.min(restarts, 5))).unref();
  });
  for (let i = 0; i < o.workers; i++) fork();
  const allReady = (): true | string => {
    const up = [...ready.values()].filter(Boolean).length;
    return !stopping && up === o.workers ? true : `${up}/${o.workers} workers ready`;
  };
  const aggregator = new AggregatorRegistry();
  const aggregated: MetricsSource = { contentType: aggregator.contentType, metrics: () => aggregator.clusterMetrics() };
  const sameAdmin = o.metrics.port === o.health.port && o.metrics.port !== 0;
  const health = await startAdminServer(o.health.host, o.health.port, allReady, sameAdmin ? aggregated : undefined);
  const metrics = sameAdmin ? health : await startAdminServer(o.metrics.host, o.metrics.port, allReady, aggregated);
  for (let i = 0; i < 600 && !listen; i++) await new Promise((r) => setTimeout(r, 50));
  o.onListening(JSON.stringify({ listen, health: health.port, metrics: metrics.port, workers: o.workers }));
  log.info({ workers: o.workers, listen }, 'gateway workers started');
  await new Promise<void>((resolve) => { process.once('SIGTERM', () => resolve()); process.once('SIGINT', () => resolve()); });
  stopping = true;
  const exits = Object.values(cluster.workers ?? {}).map((w) => new Promise<void>((r) => { if (!w || w.isDead()) return r(); w.once('exit', () => r()); w.process.kill('SIGTERM'); }));
  const deadline = new Promise<void>((r) => setTimeout(r, o.drainMs + 2000).unref());
  await Promise.race([Promise.all(exits), deadline]);
  for (const w of Object.values(cluster.workers ?? {})) if (w && !w.isDead()) w.process.kill('SIGKILL');
  await health.close();
  if (!sameAdmin) await metrics.close();
  return 0;
}
