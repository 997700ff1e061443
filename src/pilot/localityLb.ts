// DestinationRule localityLbSetting beyond region failover: `failoverPriority` (rank endpoints by how many of the
// listed labels, in order, they share with the client) and `distribute` (fixed locality weights for clients in a
// `from` locality). Pure; used by pilot's EDS translation.
import type { Locality } from '../mesh/types.ts';
import type { LocalityLbSetting } from '../policy/types.ts';

/** The topology labels Istio lets failoverPriority name, derived from locality/network/cluster, under the own labels. */
export function withTopologyLabels(labels: Readonly<Record<string, string>>, l: Locality, network: string, cluster: string): Record<string, string> {
  return {
    ...labels,
    'topology.kubernetes.io/region': l.region,
    'topology.kubernetes.io/zone': l.zone,
    'topology.istio.io/subzone': l.subZone,
    'topology.istio.io/network': network,
    'topology.istio.io/cluster': cluster,
  };
}

/**
 * failoverPriority rank: keys.length − (number of leading keys on which endpoint and client agree). 0 = matches
 * on every listed label. Without failoverPriority every endpoint ranks 0.
 */
export function failoverRank(keys: readonly string[] | undefined, ep: Readonly<Record<string, string>>, client: Readonly<Record<string, string>>): number {
  if (!keys?.length) return 0;
  let k = 0;
  while (k < keys.length && ep[keys[k]!] !== undefined && ep[keys[k]!] === client[keys[k]!]) k++;
  return keys.length - k;
}

/** `region/zone/subzone` pattern with `*` or omitted trailing parts (Istio's locality syntax). */
export function localityMatches(pattern: string, l: Locality): boolean {
  const parts = pattern.split('/');
  const actual = [l.region, l.zone, l.subZone];
  for (let i = 0; i < parts.length && i < 3; i++) {
    if (parts[i] === '*') return true;
    if (parts[i] !== actual[i]) return false;
  }
  return true;
}

/**
 * `distribute` for a client at `client`: locality key → EDS load_balancing_weight, or undefined when no `from`
 * matches the client (then priorities apply as usual). A `to` pattern's percentage is shared by the localities
 * it matches in proportion to their endpoint counts (first matching pattern wins); localities no pattern matches
 * get no traffic (absent from the map). Weights are scaled to integers ≥ 1.
 */
export function distributeWeights(setting: LocalityLbSetting | undefined, client: Locality, localities: readonly { key: string; locality: Locality; count: number }[]): Map<string, number> | undefined {
  if (!setting || setting.enabled === false) return undefined;
  const rule = setting.distribute?.find((d) => localityMatches(d.from, client));
  if (!rule) return undefined;
  const patterns = Object.entries(rule.to);
  const byPattern = new Map<string, { key: string; count: number }[]>();
  for (const l of localities) {
    const hit = patterns.find(([p]) => localityMatches(p, l.locality));
    if (!hit || hit[1] <= 0) continue;
    const list = byPattern.get(hit[0]) ?? [];
    list.push({ key: l.key, count: l.count });
    byPattern.set(hit[0], list);
  }
  const out = new Map<string, number>();
  for (const [p, list] of byPattern) {
    const pct = rule.to[p]!;
    const total = list.reduce((s, x) => s + x.count, 0);
    for (const x of list) out.set(x.key, Math.max(1, Math.round((1000 * pct * x.count) / total)));
  }
  return out;
}
