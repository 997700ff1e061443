// The accepted traffic policy as pilot uses it: indexed by service FQDN, with a content version (a change of
// policy invalidates pilot's resource cache). Pure.
import { createHash } from 'node:crypto';
import type { DestinationRule, LocalityLbSetting, Subset, VirtualService } from '../policy/types.ts';
import type { PolicySet } from '../policy/validate.ts';

export interface CompiledPolicy {
  version: string;
  /** FQDN → the VirtualService for it (the oldest name wins when two claim a host, as Istio merges by creation) */
  virtualServices: ReadonlyMap<string, VirtualService>;
  destinationRules: ReadonlyMap<string, DestinationRule>;
}

export const NO_POLICY: CompiledPolicy = { version: '', virtualServices: new Map(), destinationRules: new Map() };

/** `set` must hold FQDN hosts (src/policy/normalize.ts). */
export function compilePolicy(set: PolicySet): CompiledPolicy {
  const vs = new Map<string, VirtualService>();
  for (const v of [...set.virtualServices].sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`))) {
    for (const h of v.spec.hosts) if (!vs.has(h)) vs.set(h, v);
  }
  const dr = new Map<string, DestinationRule>();
  for (const d of set.destinationRules) if (!dr.has(d.spec.host)) dr.set(d.spec.host, d);
  const version = set.virtualServices.length + set.destinationRules.length === 0 ? '' : createHash('sha256').update(JSON.stringify(set)).digest('hex').slice(0, 12);
  return { version, virtualServices: vs, destinationRules: dr };
}

export function subsetOf(p: CompiledPolicy, host: string, subset: string): Subset | undefined {
  return p.destinationRules.get(host)?.spec.subsets?.find((s) => s.name === subset);
}

/** The localityLbSetting in force for a host's subset (the subset's over the top-level one). */
export function localityLbSettingOf(p: CompiledPolicy, host: string, subset: string): LocalityLbSetting | undefined {
  const sub = subset ? subsetOf(p, host, subset) : undefined;
  return sub?.trafficPolicy?.loadBalancer?.localityLbSetting ?? p.destinationRules.get(host)?.spec.trafficPolicy?.loadBalancer?.localityLbSetting;
}

/**
 * The region failover order EDS priorities use for a client in `region`: the mesh's order, with a
 * DestinationRule's `localityLbSetting.failover` (subset's over the top-level one) for that region put first —
 * Istio's "from region → to region first". Other regions keep their mesh order.
 */
export function failoverWithPolicy(
  mesh: Readonly<Record<string, readonly string[]>>,
  p: CompiledPolicy,
  host: string,
  subset: string,
  region: string,
): Readonly<Record<string, readonly string[]>> {
  const dr = p.destinationRules.get(host);
  const sub = subset ? subsetOf(p, host, subset) : undefined;
  const setting = sub?.trafficPolicy?.loadBalancer?.localityLbSetting ?? dr?.spec.trafficPolicy?.loadBalancer?.localityLbSetting;
  const to = (setting?.enabled === false ? [] : setting?.failover ?? []).filter((f) => f.from === region).map((f) => f.to);
  if (!to.length) return mesh;
  const rest = (mesh[region] ?? []).filter((r) => !to.includes(r));
  return { ...mesh, [region]: [...new Set(to), ...rest] };
}
