// `meshfed sidecar` process wiring: identity from the CA, xDS → outbound table, inbound mTLS, metrics, SIGTERM.
import { createLogger } from '../log.ts';
import { newRegistry } from '../observe/metrics.ts';
import { spiffeId, xdsNodeId } from '../mesh/names.ts';
import { keepCredentials } from './identity.ts';
import { XdsClient } from '../xds/adsClient.ts';
import { inboundAppPorts, wireSidecarXds } from './sidecarXds.ts';
import type { XdsAppPorts } from './appPorts.ts';
import { startInbound, type Inbound } from './sidecarInbound.ts';
import { Outbound } from './sidecarOutbound.ts';
import { startAdminServer } from './adminServer.ts';
import { wireInboundPolicy, type InboundPolicy } from './inboundPolicy.ts';
import { StartupTiering } from './startupTiering.ts';

export interface SidecarConfig {
  xds: string; ca: string; /** TLS name verified on the CA's certificate (default: the host of `ca`) */ caServerName?: string; caCertFile: string; tokenFile: string; clusterId: string; network: string; region: string; zone?: string;
  appPort: number; /** service port → app port, chosen by the caller's SNI */ appPorts?: ReadonlyMap<number, number>; /** where the app listens (default 127.0.0.1, as in a pod) */ appHost?: string; namespace: string; serviceAccount: string; service: string; trustDomain: string;
  /** the workload's labels (xDS node metadata LABELS) */ labels?: Readonly<Record<string, string>>;
  /** the workload's address (its EDS endpoints); default: the inbound host unless it is a wildcard */ podIp?: string;
  outbound: { host: string; port: number }; inbound: { host: string; port: number }; metrics: { host: string; port: number };
}

export interface RunningSidecar {
  outbound: number;
  inbound: number;
  metrics: number;
  spiffeId: string;
  /** true once the first xDS config arrived */
  configured(): boolean;
  /** when the last xDS response was applied, ms since the epoch (0: none yet) */
  lastConfigAt(): number;
  stop(): Promise<void>;
}

const isWildcard = (host: string): boolean => host === '0.0.0.0' || host === '::' || host === '';

/** Start a sidecar in this process (the playground runs many); `runSidecar` is the process wrapper. */
export async function startSidecar(cfg: SidecarConfig): Promise<RunningSidecar> {
  const log = createLogger('sidecar');
  const registry = newRegistry();
  const id = spiffeId(cfg.trustDomain, cfg.namespace, cfg.serviceAccount);
  const podIp = cfg.podIp ?? (isWildcard(cfg.inbound.host) ? undefined : cfg.inbound.host);
  let configured = false;
  let inbound: Inbound | undefined;
  let appPorts: XdsAppPorts | undefined;
  let inboundPolicy: InboundPolicy | undefined;
  const outbound = new Outbound({ host: cfg.outbound.host, port: cfg.outbound.port, namespace: cfg.namespace, sourceWorkload: cfg.serviceAccount, sourceCluster: cfg.clusterId, sourceRegion: cfg.region, trustDomain: cfg.trustDomain, tls: { key: '', cert: '', ca: '' }, registry, log });
  // readiness first (503 with the reason until a certificate and the first configuration are here), then xDS and
  // the CA in parallel, each retrying with backoff: a sidecar may start before its control plane and never exits for it
  const admin = await startAdminServer(cfg.metrics.host, cfg.metrics.port, () => (!inbound ? 'no workload certificate yet' : configured || 'no xDS configuration yet'), registry);
  const xds = new XdsClient(cfg.xds, { id: xdsNodeId('sidecar', podIp ?? cfg.inbound.host, cfg.serviceAccount, cfg.namespace), role: 'sidecar', clusterId: cfg.clusterId, network: cfg.network, locality: { region: cfg.region, ...(cfg.zone ? { zone: cfg.zone } : {}) }, ...(cfg.labels ? { labels: cfg.labels } : {}) }, log);
  wireSidecarXds(xds, (t) => { outbound.setEndpoints(t); configured = true; }, (routes, clusters) => outbound.setPolicy(routes, clusters),
    // the ports this workload listens on, as pilot knows them from its EndpointSlices (needs its own address)
    (clas) => { if (podIp) { const p = inboundAppPorts(clas, podIp); appPorts = p; inbound?.setXdsAppPorts(p); } });
  // AuthorizationPolicy + PeerAuthentication (LDS virtualInbound), ServiceEntries + outboundTrafficPolicy (virtualOutbound)
  wireInboundPolicy(xds, (p) => { inboundPolicy = p; inbound?.setPolicy(p); }, (e) => outbound.setEgress(e));
  const running = xds.start();
  const identity = await keepCredentials({ caAddress: cfg.ca, ...(cfg.caServerName ? { caServerName: cfg.caServerName } : {}), caCertFile: cfg.caCertFile, tokenFile: cfg.tokenFile, cluster: cfg.clusterId, spiffeId: id, log }, (c) => {
    outbound.setCredentials(c);
    inbound?.setCredentials(c);
  });
  outbound.setCredentials(identity.first);
  inbound = await startInbound({ host: cfg.inbound.host, port: cfg.inbound.port, appPort: cfg.appPort, ...(cfg.appPorts ? { appPorts: cfg.appPorts } : {}), ...(cfg.appHost ? { appHost: cfg.appHost } : {}), ownId: id, trustDomain: cfg.trustDomain, destinationService: cfg.service, cluster: cfg.clusterId, region: cfg.region, tls: identity.first, registry, log });
  if (appPorts) inbound.setXdsAppPorts(appPorts);
  if (inboundPolicy) inbound.setPolicy(inboundPolicy);
  const outPort = await outbound.listen();
  log.info({ outbound: outPort, inbound: inbound.port, spiffeId: id }, 'sidecar started');
  const inb = inbound;
  return {
    outbound: outPort, inbound: inb.port, metrics: admin.port, spiffeId: id,
    configured: () => configured,
    lastConfigAt: () => xds.lastAppliedAt,
    stop: async () => {
      identity.stop();
      xds.stop();
      await running;
      await outbound.close();
      await inb.close();
      await admin.close();
    },
  };
}

/** `tiering`: the process's start-up phase, raised by the command before it loaded this module (default: none raised) */
export async function runSidecar(cfg: SidecarConfig, onListening: (line: string) => void, tiering = new StartupTiering()): Promise<number> {
  const s = await startSidecar(cfg);
  const cancelStartup = tiering.endWhenSettled(s.configured, s.lastConfigAt);
  onListening(JSON.stringify({ outbound: s.outbound, inbound: s.inbound, metrics: s.metrics, spiffeId: s.spiffeId }));
  await new Promise<void>((resolve) => { process.once('SIGTERM', () => resolve()); process.once('SIGINT', () => resolve()); });
  cancelStartup();
  await s.stop();
  return 0;
}
