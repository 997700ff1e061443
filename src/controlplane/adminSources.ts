// The admin server's view of a running control plane: federation's snapshot and clusters, pilot's streams.
import type { Registry } from 'prom-client';
import type { AdminSources, Leadership, ProxySync, Readiness, ScrapeTarget } from '../admin/sources.ts';
import type { ClusterStatus, MeshSnapshot } from '../mesh/types.ts';
import type { EventBus } from '../observe/events.ts';

export interface DiscoveryView {
  snapshot(): MeshSnapshot;
  clusters(): readonly ClusterStatus[];
  ready(): { ready: boolean; reasons: string[] };
}

export interface XdsView {
  syncStatus(): readonly ProxySync[];
  configDump(nodeId: string): unknown | undefined;
}

/** Pure: ready once discovery has synced every cluster and every xDS listener is bound. */
export function readiness(discovery: { ready: boolean; reasons: readonly string[] }, listeners: Readonly<Record<string, boolean>>): Readiness {
  const reasons = [...discovery.reasons];
  for (const [name, up] of Object.entries(listeners)) if (!up) reasons.push(`${name} is not listening yet`);
  return { ready: discovery.ready && reasons.length === 0, reasons };
}

export function controlPlaneSources(o: {
  discovery: DiscoveryView;
  xds: XdsView;
  listeners: () => Readonly<Record<string, boolean>>;
  registry: Registry;
  events: EventBus;
  leadership?: () => Leadership;
  scrapeTargets?: () => readonly ScrapeTarget[];
}): AdminSources {
  return {
    snapshot: () => o.discovery.snapshot(),
    clusters: () => o.discovery.clusters(),
    proxies: () => o.xds.syncStatus(),
    configDump: (nodeId) => o.xds.configDump(nodeId),
    ready: () => readiness(o.discovery.ready(), o.listeners()),
    registry: o.registry,
    events: o.events,
    ...(o.leadership ? { leadership: o.leadership } : {}),
    ...(o.scrapeTargets ? { scrapeTargets: o.scrapeTargets } : {}),
  };
}
