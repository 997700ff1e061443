// `meshfed gateway` process wiring: xDS → Gateway, admin/health/metrics servers, SIGTERM drain.
import { hostname } from 'node:os';
import { createLogger } from '../log.ts';
import { newRegistry } from '../observe/metrics.ts';
import { Gateway } from './gateway.ts';
import { XdsClient } from './xdsClient.ts';
import { wireGatewayXds } from './gatewayXds.ts';
import { startAdminServer } from './adminServer.ts';

export interface GatewayConfig {
  xds: string;
  network: string;
  region: string;
  zone?: string;
  clusterId: string;
  nodeId?: string;
  listen: { host: string; port: number };
  health: { host: string; port: number };
  metrics: { host: string; port: number };
  drainMs: number;
}

export interface RunningGateway {
  listen: number;
  health: number;
  metrics: number;
  ready(): boolean;
  /** stop accepting, let open connections finish for up to drainMs, then close everything */
  stop(drainMs?: number): Promise<void>;
}

/** Start a gateway in this process (the playground runs one per network); `runGateway` is the process wrapper. */
export async function startGateway(cfg: GatewayConfig): Promise<RunningGateway> {
  const log = createLogger('gateway');
  const registry = newRegistry();
  const gw = new Gateway({ host: cfg.listen.host, port: cfg.listen.port, registry, log });
  const port = await gw.listen();
  const nodeId = cfg.nodeId ?? `router~0.0.0.0~${hostname()}.meshfed-system~meshfed-system.svc.cluster.local`;
  const xds = new XdsClient(cfg.xds, { id: nodeId, role: 'gateway', clusterId: cfg.clusterId, network: cfg.network, locality: { region: cfg.region, ...(cfg.zone ? { zone: cfg.zone } : {}) } }, log);
  wireGatewayXds(xds, (t) => { gw.setEndpoints(t); log.info({ services: t.size }, 'gateway endpoints updated'); });
  const health = await startAdminServer(cfg.health.host, cfg.health.port, () => gw.ready, undefined);
  const sameAdmin = cfg.metrics.port === cfg.health.port && cfg.metrics.port !== 0;
  const metrics = sameAdmin ? health : await startAdminServer(cfg.metrics.host, cfg.metrics.port, () => gw.ready, registry);
  const running = xds.start();
  log.info({ listen: port, health: health.port, metrics: metrics.port, xds: cfg.xds, network: cfg.network }, 'gateway started');
  return {
    listen: port, health: health.port, metrics: metrics.port,
    ready: () => gw.ready,
    stop: async (drainMs = cfg.drainMs) => {
      await gw.drain(drainMs);
      xds.stop();
      await running;
      await health.close();
      if (!sameAdmin) await metrics.close();
      log.info('gateway stopped');
    },
  };
}

export async function runGateway(cfg: GatewayConfig, onListening: (line: string) => void): Promise<number> {
  const g = await startGateway(cfg);
  onListening(JSON.stringify({ listen: g.listen, health: g.health, metrics: g.metrics }));
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await g.stop();
  return 0;
}
