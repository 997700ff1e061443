// `meshfed status`: reads the admin server's debug JSON and renders istioctl-like tables.
import type { ClusterStatus } from '../mesh/types.ts';
import type { Leadership, ProxySync } from './sources.ts';
import type { TopologyView } from './views.ts';
import { ageString, proxyTypeCell, table } from './views.ts';

const TYPES = ['CDS', 'LDS', 'EDS', 'RDS', 'SDS'];

/** The CONTROL PLANE lines: which replica leads, and whether the one we asked is it. */
export function renderLeadership(l: Leadership | { enabled: false } | undefined): string {
  if (!l) return '(unknown: this admin server does not report leadership)';
  if (!('identity' in l)) return 'leader election off: this replica writes alone';
  return table(
    ['REPLICA', 'ROLE', 'LEADER', 'LEASE', 'TRANSITIONS'],
    [[l.identity, l.leading ? 'LEADER' : 'FOLLOWER', l.leader || '(none)', `${l.lease} (${l.leaseDurationSeconds}s)`, String(l.transitions)]],
  );
}

export function renderStatus(clusters: readonly ClusterStatus[], proxies: readonly ProxySync[], topo: TopologyView, now = Date.now(), leadership?: Leadership | { enabled: false }): string {
  const out: string[] = [];
  if (leadership) out.push('CONTROL PLANE', renderLeadership(leadership), '');
  out.push('CLUSTERS');
  out.push(clusters.length === 0 ? '(none registered)' : table(
    ['NAME', 'REGION', 'NETWORK', 'STATE', 'SERVICES', 'ENDPOINTS', 'LAST SYNC', 'REASON'],
    clusters.map((c) => [c.name, c.region, c.network, c.state.toUpperCase(), String(c.services), String(c.endpoints), ageString(c.lastSync, now), c.reason ?? '']),
  ));
  out.push('', 'PROXIES');
  out.push(proxies.length === 0 ? '(none connected)' : table(
    ['NODE', 'CLUSTER', 'ROLE', ...TYPES],
    proxies.map((p) => [p.nodeId, p.cluster, p.role, ...TYPES.map((t) => proxyTypeCell(p, t))]),
  ));
  const gws = topo.regions.flatMap((r) => r.gateways.map((g) => ({ region: r.name, ...g })));
  out.push('', 'GATEWAYS');
  out.push(gws.length === 0 ? '(none)' : table(
    ['REGION', 'NETWORK', 'CLUSTER', 'ADDRESS', 'STATE'],
    gws.map((g) => [g.region, g.network, g.cluster ?? '', `${g.address}:${g.port}`, g.state.toUpperCase()]),
  ));
  return out.join('\n');
}

/** GET one admin JSON document; every failure is one line that says what to check. */
export async function getJson<T>(base: string, path: string): Promise<T> {
  let r: Response;
  try {
    r = await fetch(base + path, { signal: AbortSignal.timeout(5000) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`cannot reach meshfed admin server at ${base}: ${cause?.code ?? cause?.message ?? (e as Error).message} (is the control plane running? pass --admin HOST:PORT)`);
  }
  if (!r.ok) throw new Error(`admin server at ${base} answered ${r.status} for ${path}: ${(await r.text()).trim()}`);
  try {
    return (await r.json()) as T;
  } catch {
    throw new Error(`admin server at ${base} sent invalid JSON for ${path}: is it a meshfed admin server?`);
  }
}

export interface StatusData { clusters: ClusterStatus[]; proxies: ProxySync[]; topology: TopologyView; leadership?: Leadership | { enabled: false } }

/** What `meshfed status` shows, as data (its -o json|yaml). */
export async function fetchStatusData(host: string, port: number): Promise<StatusData> {
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const [clusters, proxies, topo, leadership] = await Promise.all([
    getJson<ClusterStatus[]>(base, '/debug/clusters'),
    getJson<ProxySync[]>(base, '/debug/syncz'),
    getJson<TopologyView>(base, '/debug/topology'),
    // an older admin server has no /debug/leader: leave the section out
    getJson<Leadership | { enabled: false }>(base, '/debug/leader').catch(() => undefined),
  ]);
  return { clusters, proxies, topology: topo, ...(leadership ? { leadership } : {}) };
}

export async function fetchStatus(host: string, port: number): Promise<string> {
  const d = await fetchStatusData(host, port);
  return renderStatus(d.clusters, d.proxies, d.topology, Date.now(), d.leadership);
}
