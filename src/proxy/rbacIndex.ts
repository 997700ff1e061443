// Which policies of one RBAC config can match a request at all, decided by two attributes nearly every Istio rule
// names: the caller's exact principal and the exact HTTP method. Pure and conservative: a policy is left out only
// when its matchers prove it cannot match (every way to match it names a principal, or a method, other than the
// request's); everything else stays a candidate and is evaluated as before. With many policies for other callers
// (the common case of per-caller ALLOW rules), a request then evaluates a handful of policies instead of all.
import type { Permission, Principal, StringMatcher } from '../security/rbacTypes.ts';

/** Values an attribute must take for a matcher to match; undefined = any value may (not indexable). */
type Keys = ReadonlySet<string> | undefined;

/** The set member of a oneof: protobufjs' discriminator when present, else the first key that is set. */
export function oneof<T extends object>(o: T, disc: string, keys: readonly string[]): string | undefined {
  const d = (o as Record<string, unknown>)[disc];
  if (typeof d === 'string' && keys.includes(d)) return d;
  return keys.find((k) => { const v = (o as Record<string, unknown>)[k]; return v !== undefined && v !== null && v !== false; });
}

function exactOf(m: StringMatcher | undefined): Keys {
  if (!m || m.ignore_case === true) return undefined;
  return oneof(m, 'match_pattern', ['exact', 'prefix', 'suffix', 'contains', 'safe_regex']) === 'exact' ? new Set([m.exact!]) : undefined;
}

/** or: any branch may match → the union, unknown if one branch is. */
function union(sets: Keys[]): Keys {
  if (sets.length === 0) return new Set();
  if (sets.some((s) => s === undefined)) return undefined;
  return new Set(sets.flatMap((s) => [...s!]));
}

/** and: every branch must match → the smallest known branch bounds it (a superset of the intersection). */
function narrowest(sets: Keys[]): Keys {
  let best: Keys;
  for (const s of sets) if (s !== undefined && (best === undefined || s.size < best.size)) best = s;
  return best;
}

export function principalKeys(p: Principal): Keys {
  switch (oneof(p, 'identifier', ['and_ids', 'or_ids', 'any', 'authenticated', 'direct_remote_ip', 'remote_ip', 'header', 'not_id'])) {
    case 'authenticated': return exactOf(p.authenticated?.principal_name);
    case 'and_ids': return narrowest((p.and_ids?.ids ?? []).map(principalKeys));
    case 'or_ids': return union((p.or_ids?.ids ?? []).map(principalKeys));
    default: return undefined;
  }
}

export function methodKeys(p: Permission): Keys {
  switch (oneof(p, 'rule', ['and_rules', 'or_rules', 'any', 'header', 'url_path', 'destination_ip', 'destination_port', 'not_rule'])) {
    case 'header': {
      const h = p.header!;
      if (h.name.toLowerCase() !== ':method' || h.invert_match === true) return undefined;
      return oneof(h, 'header_match_specifier', ['string_match', 'present_match']) === 'string_match' ? exactOf(h.string_match) : undefined;
    }
    case 'and_rules': return narrowest((p.and_rules?.rules ?? []).map(methodKeys));
    case 'or_rules': return union((p.or_rules?.rules ?? []).map(methodKeys));
    default: return undefined;
  }
}

/** Candidate policy positions (ascending) for a request's principal ('' = none) and method ('' = none, e.g. TCP). */
export type CandidateIndex = (principal: string, method: string) => readonly number[];

/** Cached per (principal, method) pair; values no policy names share one key, so the cache stays bounded. */
export function candidateIndex(policies: readonly { principals: readonly Principal[]; permissions: readonly Permission[] }[]): CandidateIndex {
  const keyed = policies.map((p) => ({ principals: union(p.principals.map(principalKeys)), methods: union(p.permissions.map(methodKeys)) }));
  const principalsNamed = new Set(keyed.flatMap((k) => [...(k.principals ?? [])]));
  const methodsNamed = new Set(keyed.flatMap((k) => [...(k.methods ?? [])]));
  const all = keyed.map((_, i) => i);
  if (principalsNamed.size === 0 && methodsNamed.size === 0) return () => all;
  // nested maps keyed by the request's own strings: no key is built per request, and a principal string (one per
  // connection) or a method (interned by node's HTTP parser) keeps its hash
  const cache = new Map<string, Map<string, readonly number[]>>();
  return (principal, method) => {
    const p = principalsNamed.has(principal) ? principal : '';
    let byMethod = cache.get(p);
    if (!byMethod) cache.set(p, (byMethod = new Map()));
    const m = methodsNamed.has(method) ? method : '';
    let c = byMethod.get(m);
    if (!c) {
      c = all.filter((i) => (keyed[i]!.principals?.has(p) ?? true) && (keyed[i]!.methods?.has(m) ?? true));
      byMethod.set(m, c);
    }
    return c;
  };
}
