// Locality priorities relative to the requesting proxy. Pure.
import type { Locality } from '../mesh/types.ts';

function rank(node: Locality, loc: Locality, failover: Readonly<Record<string, readonly string[]>>, others: readonly string[]): [number, number] {
  if (loc.region === node.region && loc.zone === node.zone) return [0, 0];
  if (loc.region === node.region) return [1, 0];
  const order = failover[node.region] ?? [];
  const i = order.indexOf(loc.region);
  if (i >= 0) return [2, i];
  return [2, order.length + others.indexOf(loc.region)];
}

/**
 * Priority per locality key (`region/zone/subZone`): 0 = same region+zone, then same region, then other regions
 * in failover order (regions not listed follow, by name). Contiguous from 0.
 */
export function localityPriorities(
  node: Locality,
  localities: readonly Locality[],
  failover: Readonly<Record<string, readonly string[]>>,
): Map<string, number> {
  const listed = new Set(failover[node.region] ?? []);
  const others = [...new Set(localities.map((l) => l.region))].filter((r) => r !== node.region && !listed.has(r)).sort();
  const ranks = localities.map((l) => ({ key: localityKey(l), r: rank(node, l, failover, others) }));
  const distinct = [...new Set(ranks.map((x) => x.r.join(',')))]
    .map((s) => s.split(',').map(Number) as [number, number])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .map((r) => r.join(','));
  const out = new Map<string, number>();
  for (const x of ranks) out.set(x.key, distinct.indexOf(x.r.join(',')));
  return out;
}

export function localityKey(l: Locality): string {
  return `${l.region}/${l.zone}/${l.subZone}`;
}
