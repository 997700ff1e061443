/** Pure locality load-balancing: EDS priorities and locality weights per DestinationRule localityLbSetting. */
import type { LocalityLbSetting } from './types.ts';

export interface Locality {
  region: string;
  zone: string;
  subzone: string;
}

export interface PolicyEndpoint {
  address: string;
  port: number;
  locality: Locality;
  labels: Record<string, string>;
}

export interface PrioritizedEndpoint extends PolicyEndpoint {
  /** EDS priority: 0 is preferred, higher values are failover. */
  priority: number;
  /** Locality weight (0..100) when `distribute` applies, otherwise undefined. */
  localityWeight?: number;
}

/** Matches "region/zone/subzone" patterns where any trailing part may be "*" or omitted. */
export function localityMatches(pattern: string, l: Locality): boolean {
  const parts = pattern.split('/');
  const actual = [l.region, l.zone, l.subzone];
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] === '*') return true;
    if (parts[i] !== actual[i]) return false;
  }
  return true;
}

/**
 * Istio semantics: without failoverPriority, same region+zone+subzone → 0, same zone → 1, same region → 2,
 * the failover `to` region of the client's region → 3, anything else → 4. With failoverPriority labels
 * [l1..ln], endpoints matching the client on l1..lk (leading k labels) get priority n-k.
 */
export function prioritize(endpoints: readonly PolicyEndpoint[], client: { locality: Locality; labels: Record<string, string> }, setting: LocalityLbSetting | undefined): PrioritizedEndpoint[] {
  if (setting?.enabled === false) return endpoints.map((e) => ({ ...e, priority: 0 }));
  const dist = setting?.distribute?.find((d) => localityMatches(d.from, client.locality));
  return endpoints.map((e) => {
    let priority: number;
    if (setting?.failoverPriority?.length) {
      const keys = setting.failoverPriority;
      let k = 0;
      while (k < keys.length && e.labels[keys[k]!] !== undefined && e.labels[keys[k]!] === client.labels[keys[k]!]) k++;
      priority = keys.length - k;
    } else if (e.locality.region !== client.locality.region) {
      const to = setting?.failover?.find((f) => f.from === client.locality.region)?.to;
      priority = to === e.locality.region ? 3 : 4;
    } else if (e.locality.zone !== client.locality.zone) priority = 2;
    else if (e.locality.subzone !== client.locality.subzone) priority = 1;
    else priority = 0;
    if (dist) {
      const hit = Object.entries(dist.to).find(([pattern]) => localityMatches(pattern, e.locality));
      return { ...e, priority: 0, localityWeight: hit ? hit[1] : 0 };
    }
    return { ...e, priority };
  });
}
