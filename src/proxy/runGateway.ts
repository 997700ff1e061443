// `meshfed gateway` process wiring: xDS → Gateway, admin/health/metrics servers, SIGTERM drain.
import { hostname } from 'node:os';
import { createLogger } from '../log.ts';
import { xdsNodeId } from '../mesh/names.ts';
import { newRegistry } from '../observe/metrics.ts';
import { Gateway } from './gateway.ts';
import { pickTransport } from './gatewayTransport.ts';
import type { TransportName } from './conn.ts';
import { XdsClient } from '../xds/adsClient.ts';
import { wireGatewayXds } from './gatewayXds.ts';
import { startAdminServer } from './adminServer.ts';
import { StartupTiering } from './startupTiering.ts';

/**
 * a worker of `--workers N` (its primary forks it with this variable). Decided without loading node:cluster: the
 * cluster module and prom-client's aggregator (~2 MB RSS) load only in `--workers` processes.
 */
const isGatewayWorker = (): boolean => process.env.MESHFED_GATEWAY_WORKER === '1';

export interface GatewayConfig {
  xds: string;
  network: string;
  region: string;
  zone?: string;
  clusterId: string;
  nodeId?: string;
  listen: { host: string; port: number };
  /** readiness and metrics servers; a `--workers` worker has none (its primary serves them for all) */
  health?: { host: string; port: number };
  metrics?: { host: string; port: number };
  drainMs: number;
  /** close a spliced connection idle this long (Gateway's default when absent; 0: never) */
  idleTimeoutMs?: number;
  /** gateway processes accepting on `listen` (1: this process alone) */
  workers?: number;
  /** what connections run on (default: libuv handles when this Node.js has them, else net.Socket) */
  transport?: TransportName;
}

export interface RunningGateway {
  listen: number;
  health: number;
  metrics: number;
  ready(): boolean;
  /** when the last xDS response was applied, ms since the epoch (0: none yet) */
  lastConfigAt(): number;
  /** stop accepting, let open connections finish for up to drainMs, then close everything */
  stop(drainMs?: number): Promise<void>;
}

/** Start a gateway in this process (the playground runs one per network); `runGateway` is the process wrapper. */
export async function startGateway(cfg: GatewayConfig): Promise<RunningGateway> {
  const log = createLogger('gateway');
  const registry = newRegistry();
  const { transport, fallback } = pickTransport(cfg.transport);
  if (fallback) log.warn({ transport: transport.name, why: fallback }, 'gateway connections run on net.Socket (more CPU per connection than libuv handles)');
  const gw = new Gateway({ host: cfg.listen.host, port: cfg.listen.port, registry, log, transport, ...(cfg.idleTimeoutMs !== undefined ? { idleTimeoutMs: cfg.idleTimeoutMs } : {}) });
  const port = await gw.listen();
  const nodeId = cfg.nodeId ?? xdsNodeId('router', '0.0.0.0', hostname(), 'meshfed-system');
  const xds = new XdsClient(cfg.xds, { id: nodeId, role: 'gateway', clusterId: cfg.clusterId, network: cfg.network, locality: { region: cfg.region, ...(cfg.zone ? { zone: cfg.zone } : {}) } }, log);
  wireGatewayXds(xds, (t) => { gw.setEndpoints(t); log.info({ services: t.size }, 'gateway endpoints updated'); });
  const sameAdmin = cfg.metrics?.port === cfg.health?.port && cfg.metrics?.port !== 0;
  const health = cfg.health ? await startAdminServer(cfg.health.host, cfg.health.port, () => gw.ready, sameAdmin ? registry : undefined) : undefined;
  const metrics = sameAdmin ? health : cfg.metrics ? await startAdminServer(cfg.metrics.host, cfg.metrics.port, () => gw.ready, registry) : undefined;
  const stopReporting = isGatewayWorker() ? (await import('./gatewayWorkers.ts')).reportToPrimary(registry, () => gw.ready) : () => {};
  const running = xds.start();
  log.info({ listen: port, health: health?.port, metrics: metrics?.port, xds: cfg.xds, network: cfg.network, transport: transport.name }, 'gateway started');
  return {
    listen: port, health: health?.port ?? 0, metrics: metrics?.port ?? 0,
    ready: () => gw.ready,
    lastConfigAt: () => xds.lastAppliedAt,
    stop: async (drainMs = cfg.drainMs) => {
      await gw.drain(drainMs);
      xds.stop();
      await running;
      stopReporting();
      await health?.close();
      if (!sameAdmin) await metrics?.close();
      log.info('gateway stopped');
    },
  };
}

/** `tiering`: the process's start-up phase, raised by the command before it loaded this module (default: none raised) */
export async function runGateway(cfg: GatewayConfig, onListening: (line: string) => void, tiering = new StartupTiering()): Promise<number> {
  const workers = cfg.workers ?? 1;
  if (workers > 1 && !isGatewayWorker()) {
    tiering.done(); // the primary relays nothing: start-up that matters is its workers'
    const { runGatewayPrimary } = await import('./gatewayWorkers.ts');
    return runGatewayPrimary({ workers, health: cfg.health ?? { host: '127.0.0.1', port: 0 }, metrics: cfg.metrics ?? { host: '127.0.0.1', port: 0 }, drainMs: cfg.drainMs, onListening });
  }
  if (isGatewayWorker()) {
    // a worker of `--workers N`: the primary serves readiness and metrics and prints the ports
    const { health: _h, metrics: _m, ...own } = cfg;
    const g = await startGateway(own);
    const cancelStartup = tiering.endWhenSettled(g.ready, g.lastConfigAt);
    await untilStopSignal();
    cancelStartup();
    await g.stop();
    (await import('node:cluster')).default.worker?.disconnect(); // the IPC channel to the primary would keep this process alive
    return 0;
  }
  const g = await startGateway(cfg);
  const cancelStartup = tiering.endWhenSettled(g.ready, g.lastConfigAt);
  onListening(JSON.stringify({ listen: g.listen, health: g.health, metrics: g.metrics }));
  await untilStopSignal();
  cancelStartup();
  await g.stop();
  return 0;
}

function untilStopSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
}
