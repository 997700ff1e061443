// Prometheus metrics of the east-west gateway, registered on the registry it is given.
// Per-service traffic (connections, bytes) is kept as plain numbers on the hot path (ServiceTraffic) and copied
// into the Prometheus metrics at every scrape, so a chunk of bytes or a connection costs no label hashing.
import { Counter, Gauge, metric, type Registry } from '../observe/metrics.ts';

export interface GatewayMetrics {
  connectionsTotal: Counter<'service'>;
  connectionsActive: Gauge<'service'>;
  bytesIn: Counter<'service'>;
  bytesOut: Counter<'service'>;
  connectFailures: Counter<'service'>;
  ejections: Counter<'service'>;
  rejected: Counter<'reason'>;
  idleTimeouts: Counter<'service'>;
}

/** Live traffic figures of one service; the gateway adds to them, `publishTraffic` reports them. */
export interface ServiceTraffic {
  connectionsTotal: number;
  connectionsActive: number;
  bytesIn: number;
  bytesOut: number;
}

/** Traffic per service plus what has already been reported to Prometheus. */
export type TrafficTable = Map<string, { live: ServiceTraffic; reported: ServiceTraffic }>;

const zero = (): ServiceTraffic => ({ connectionsTotal: 0, connectionsActive: 0, bytesIn: 0, bytesOut: 0 });

/** The live figures of a service, created at zero on first use. */
export function trafficOf(table: TrafficTable, service: string): ServiceTraffic {
  let e = table.get(service);
  if (!e) { e = { live: zero(), reported: zero() }; table.set(service, e); }
  return e.live;
}

/** Bring the Prometheus metrics up to date with the live figures (counters grow by what is new since last time). */
export function publishTraffic(table: TrafficTable, m: Pick<GatewayMetrics, 'connectionsTotal' | 'connectionsActive' | 'bytesIn' | 'bytesOut'>): void {
  for (const [service, { live, reported }] of table) {
    const labels = { service };
    if (live.connectionsTotal > reported.connectionsTotal) m.connectionsTotal.inc(labels, live.connectionsTotal - reported.connectionsTotal);
    if (live.bytesIn > reported.bytesIn) m.bytesIn.inc(labels, live.bytesIn - reported.bytesIn);
    if (live.bytesOut > reported.bytesOut) m.bytesOut.inc(labels, live.bytesOut - reported.bytesOut);
    m.connectionsActive.set(labels, live.connectionsActive);
    Object.assign(reported, live);
  }
}

/** Hooks run before every scrape of a registry (a gateway publishes its traffic figures there). */
const scrapeHooks = new WeakMap<Registry, Set<() => void>>();

/** Run `fn` before each scrape of `r`'s gateway metrics; returns a function that removes it. */
export function beforeScrape(r: Registry, fn: () => void): () => void {
  let hooks = scrapeHooks.get(r);
  if (!hooks) { hooks = new Set(); scrapeHooks.set(r, hooks); }
  hooks.add(fn);
  return () => hooks.delete(fn);
}

export function gatewayMetrics(r: Registry): GatewayMetrics {
  // Each traffic metric runs the hooks (publishing is idempotent), whichever of them a scrape reads first.
  const collect = (): void => { for (const f of scrapeHooks.get(r) ?? []) f(); };
  const c = (name: string, help: string, label: string, withHooks = false) =>
    metric(r, name, (registers) => new Counter({ name, help, labelNames: [label], registers, ...(withHooks ? { collect } : {}) }));
  return {
    connectionsTotal: c('meshfed_gateway_connections_total', 'Connections routed to a service', 'service', true) as Counter<'service'>,
    connectionsActive: metric(r, 'meshfed_gateway_connections_active', (registers) => new Gauge({ name: 'meshfed_gateway_connections_active', help: 'Open spliced connections', labelNames: ['service'], registers, collect })),
    bytesIn: c('meshfed_gateway_bytes_received_total', 'Bytes from downstream clients', 'service', true) as Counter<'service'>,
    bytesOut: c('meshfed_gateway_bytes_sent_total', 'Bytes from upstream endpoints to clients', 'service', true) as Counter<'service'>,
    connectFailures: c('meshfed_gateway_upstream_connect_failures_total', 'Upstream connect failures', 'service') as Counter<'service'>,
    ejections: c('meshfed_gateway_outlier_ejections_total', 'Endpoints ejected after consecutive connect failures', 'service') as Counter<'service'>,
    rejected: c('meshfed_gateway_rejected_connections_total', 'Connections closed before routing, by reason', 'reason') as Counter<'reason'>,
    idleTimeouts: c('meshfed_gateway_idle_timeouts_total', 'Spliced connections closed after no bytes either way for the idle timeout', 'service') as Counter<'service'>,
  };
}
