// Prometheus metrics of the east-west gateway, registered on the registry it is given.
import { Counter, Gauge, metric, type Registry } from '../observe/metrics.ts';

export interface GatewayMetrics {
  connectionsTotal: Counter<'service'>;
  connectionsActive: Gauge<'service'>;
  bytesIn: Counter<'service'>;
  bytesOut: Counter<'service'>;
  connectFailures: Counter<'service'>;
  ejections: Counter<'service'>;
  rejected: Counter<'reason'>;
}

export function gatewayMetrics(r: Registry): GatewayMetrics {
  const c = (name: string, help: string, label: string) => metric(r, name, (registers) => new Counter({ name, help, labelNames: [label], registers }));
  return {
    connectionsTotal: c('meshfed_gateway_connections_total', 'Connections routed to a service', 'service') as Counter<'service'>,
    connectionsActive: metric(r, 'meshfed_gateway_connections_active', (registers) => new Gauge({ name: 'meshfed_gateway_connections_active', help: 'Open spliced connections', labelNames: ['service'], registers })),
    bytesIn: c('meshfed_gateway_bytes_received_total', 'Bytes from downstream clients', 'service') as Counter<'service'>,
    bytesOut: c('meshfed_gateway_bytes_sent_total', 'Bytes from upstream endpoints to clients', 'service') as Counter<'service'>,
    connectFailures: c('meshfed_gateway_upstream_connect_failures_total', 'Upstream connect failures', 'service') as Counter<'service'>,
    ejections: c('meshfed_gateway_outlier_ejections_total', 'Endpoints ejected after consecutive connect failures', 'service') as Counter<'service'>,
    rejected: c('meshfed_gateway_rejected_connections_total', 'Connections closed before routing, by reason', 'reason') as Counter<'reason'>,
  };
}
