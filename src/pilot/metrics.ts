// Pilot's Prometheus metrics behind a small interface: the ADS server and the push scheduler report what happened,
// and without a registry (tests, benches) the reports go nowhere. Names are part of the contract (dashboards).
import type { Registry } from 'prom-client';
import { Counter, Gauge, Histogram } from '../observe/metrics.ts';

export interface PilotMetrics {
  streamOpened(): void;
  streamClosed(): void;
  /** one DiscoveryResponse written, by type URL */
  pushed(typeUrl: string): void;
  /** one NACK received, by type URL */
  nacked(typeUrl: string): void;
  /** a snapshot change fully pushed, seconds after the first change of its batch */
  flushed(seconds: number): void;
}

const shortType = (typeUrl: string): string => typeUrl.slice(typeUrl.lastIndexOf('.') + 1);

export const NO_METRICS: PilotMetrics = { streamOpened() {}, streamClosed() {}, pushed() {}, nacked() {}, flushed() {} };

export function pilotMetrics(reg: Registry | undefined): PilotMetrics {
  if (!reg) return NO_METRICS;
  const connected = new Gauge({ name: 'meshfed_pilot_connected_proxies', help: 'ADS streams open', registers: [reg] });
  const pushes = new Counter({ name: 'meshfed_pilot_pushes_total', help: 'xDS responses sent', labelNames: ['type'], registers: [reg] });
  const latency = new Histogram({ name: 'meshfed_pilot_push_seconds', help: 'snapshot change to all pushes written', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [reg] });
  // the type label of NACKs is the whole type URL (as it has always been); pushes use the message name
  const nacks = new Counter({ name: 'meshfed_pilot_nacks_total', help: 'xDS NACKs received', labelNames: ['type'], registers: [reg] });
  return {
    streamOpened: () => connected.inc(),
    streamClosed: () => connected.dec(),
    pushed: (t) => pushes.inc({ type: shortType(t) }),
    nacked: (t) => nacks.inc({ type: t }),
    flushed: (s) => latency.observe(s),
  };
}
