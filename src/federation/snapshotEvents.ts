// Pure: what changed between two snapshots, as events operators watch (service added/removed, endpoint health,
// new port conflicts).
import type { MeshEventKind } from '../observe/events.ts';
import type { MeshService, MeshSnapshot } from '../mesh/types.ts';

export interface SnapshotEvent { kind: MeshEventKind; message: string; data: Record<string, unknown> }

/** Regions whose every member cluster is unreachable: their traffic is failing over. */
export function regionsDown(s: MeshSnapshot): Set<string> {
  const byRegion = new Map<string, boolean>();
  for (const c of s.clusters) byRegion.set(c.region, (byRegion.get(c.region) ?? true) && c.state === 'unreachable');
  return new Set([...byRegion].filter(([, down]) => down).map(([r]) => r));
}

/**
 * `changed`: when known, the only service keys that differ between the two snapshots (a dirty-key merge says which),
 * so that one endpoint change is not a walk over every service.
 */
export function snapshotEvents(prev: MeshSnapshot, next: MeshSnapshot, changed?: ReadonlySet<string>): SnapshotEvent[] {
  const out: SnapshotEvent[] = [];
  const was = regionsDown(prev);
  const now = regionsDown(next);
  for (const r of now) {
    if (was.has(r)) continue;
    const to = next.failover[r]?.[0];
    out.push({ kind: 'failover.started', message: `region ${r} is unreachable: its traffic fails over${to ? ` to ${to}` : ''}`, data: { region: r, ...(to ? { to } : {}) } });
  }
  for (const r of was) if (!now.has(r) && next.clusters.some((c) => c.region === r)) out.push({ kind: 'failover.ended', message: `region ${r} is back`, data: { region: r } });
  const entries: Iterable<[string, MeshService | undefined]> = changed ? [...changed].sort().map((k) => [k, next.services.get(k)]) : next.services;
  for (const [key, svc] of entries) {
    const old = prev.services.get(key);
    if (old === svc || !svc) continue;
    const ready = svc.endpoints.filter((e) => e.ready).length;
    if (!old) {
      out.push({ kind: 'service.added', message: `service ${key} added (${svc.clusters.join(', ')}; ${ready}/${svc.endpoints.length} endpoints ready)`, data: { service: key, clusters: svc.clusters } });
      continue;
    }
    const was = old.endpoints.filter((e) => e.ready).length;
    const stale = svc.endpoints.filter((e) => e.staleSince).length;
    const wasStale = old.endpoints.filter((e) => e.staleSince).length;
    if (was !== ready || old.endpoints.length !== svc.endpoints.length || stale !== wasStale) {
      out.push({ kind: 'endpoint.health', message: `service ${key}: ${ready}/${svc.endpoints.length} endpoints ready${stale ? `, ${stale} last-known (cluster unreachable)` : ''}`, data: { service: key, ready, total: svc.endpoints.length, stale } });
    }
    const known = new Set(old.conflicts.map((c) => c.detail));
    for (const c of svc.conflicts) {
      if (!known.has(c.detail)) out.push({ kind: 'replication.conflict', message: `service ${key}: ${c.detail}; the definition in ${c.winner} wins`, data: { service: key, ...c } });
    }
  }
  for (const key of changed ?? prev.services.keys()) {
    if (prev.services.has(key) && !next.services.has(key)) out.push({ kind: 'service.removed', message: `service ${key} removed`, data: { service: key } });
  }
  return out;
}
