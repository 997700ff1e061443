// Pure functions turning sources' state into the JSON the admin endpoints and the CLI show.
import type { ClusterStatus, Endpoint, MeshSnapshot } from '../mesh/types.ts';
import type { ProxySync, TypeSync } from './sources.ts';

export interface RegistryEndpointView {
  address: string;
  cluster: string;
  network: string;
  locality: string;
  ready: boolean;
  stale: boolean;
  tlsMode: string;
}

export interface RegistryServiceView {
  key: string;
  hostname: string;
  ports: { name: string; port: number; protocol: string }[];
  clusters: string[];
  endpoints: RegistryEndpointView[];
  conflicts: number;
}

function localityString(e: Endpoint): string {
  return [e.locality.region, e.locality.zone, e.locality.subZone].filter((s) => s !== '').join('/');
}

export function registryView(snap: MeshSnapshot): RegistryServiceView[] {
  return [...snap.services.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, s]) => ({
      key,
      hostname: s.hostname,
      ports: s.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })),
      clusters: [...s.clusters],
      endpoints: s.endpoints.map((e) => ({
        address: e.address,
        cluster: e.cluster,
        network: e.network,
        locality: localityString(e),
        ready: e.ready,
        stale: e.staleSince !== undefined,
        tlsMode: e.tlsMode,
      })),
      conflicts: s.conflicts.length,
    }));
}

export type SyncState = 'SYNCED' | 'STALE' | 'NOT SENT' | 'NACKED';

/** istioctl proxy-status semantics: nothing sent, sent == acked, or sent but not (yet) acked. */
export function typeSyncState(t: TypeSync): SyncState {
  if (t.versionSent === '') return 'NOT SENT';
  if (t.versionAcked === t.versionSent) return 'SYNCED';
  // the proxy rejected the latest response (pilot keeps versionAcked at the last good version)
  if (t.lastNack && t.lastNonce !== undefined && t.lastNack.nonce === t.lastNonce) return 'NACKED';
  return 'STALE';
}

export interface TopologyView {
  version: number;
  regions: {
    name: string;
    clusters: (ClusterStatus & { serviceCounts: { key: string; endpoints: number; ready: number; stale: number }[] })[];
    gateways: { network: string; address: string; port: number; cluster?: string; state: string }[];
  }[];
}

/** Regions → clusters → services with endpoint counts; gateways take the state of their cluster. */
export function topologyView(snap: MeshSnapshot, clusters: readonly ClusterStatus[]): TopologyView {
  const regions = new Map<string, TopologyView['regions'][number]>();
  const region = (name: string) => {
    let r = regions.get(name);
    if (!r) regions.set(name, (r = { name, clusters: [], gateways: [] }));
    return r;
  };
  const byName = new Map(clusters.map((c) => [c.name, c]));
  for (const c of clusters) {
    const serviceCounts: { key: string; endpoints: number; ready: number; stale: number }[] = [];
    for (const [key, s] of [...snap.services.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const eps = s.endpoints.filter((e) => e.cluster === c.name);
      if (eps.length === 0 && !s.clusters.includes(c.name)) continue;
      serviceCounts.push({
        key,
        endpoints: eps.length,
        ready: eps.filter((e) => e.ready).length,
        stale: eps.filter((e) => e.staleSince !== undefined).length,
      });
    }
    region(c.region).clusters.push({ ...c, serviceCounts });
  }
  for (const g of snap.gateways) {
    const host = g.cluster ? byName.get(g.cluster) : clusters.find((c) => c.network === g.network);
    region(g.region).gateways.push({
      network: g.network,
      address: g.address,
      port: g.port,
      ...(g.cluster ? { cluster: g.cluster } : {}),
      state: host ? (host.state === 'connected' ? 'healthy' : host.state) : 'unknown',
    });
  }
  return { version: snap.version, regions: [...regions.values()].sort((a, b) => a.name.localeCompare(b.name)) };
}

/** Plain-text table with aligned columns. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('   ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function ageString(iso: string | undefined, now: number): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  return `${Math.floor(s / 3600)}h ago`;
}

/** short name (CDS, LDS, …) → the matching entry of a proxy's types keyed by type URL (or by short name) */
export function proxyTypeCell(p: ProxySync, short: string): string {
  const long = { CDS: 'Cluster', EDS: 'ClusterLoadAssignment', LDS: 'Listener', RDS: 'RouteConfiguration', SDS: 'Secret' }[short] ?? short;
  const entry = Object.entries(p.types).find(([url]) => url === short || url.endsWith(`.${long}`));
  return entry ? typeSyncState(entry[1]) : 'NOT SENT';
}
