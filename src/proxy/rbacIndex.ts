// Which policies of one RBAC config can match a request at all, decided by two attributes nearly every Istio rule
// names: the caller's principal and the HTTP method. Pure and conservative: a policy is left out only when its
// matchers prove it cannot match the request's principal or method; everything else stays a candidate and is
// evaluated as before. With many policies for other callers (per-caller or per-namespace ALLOW rules, DENY rules for
// other methods), a request evaluates a handful of policies instead of all.
//
// What a matcher needs of one attribute is a list of clauses, all of which must hold (an empty list: anything may
// match): a positive clause (the value is one of `only`, or matches one of `patterns` — exact, prefix, suffix,
// contains, regex) or a negative one (the value is not one of `except`, from not_id / not_rule / invert_match).
import type { HeaderMatcher, Permission, Principal, StringMatcher } from '../security/rbacTypes.ts';

interface Clause { only?: ReadonlySet<string>; patterns?: readonly ((s: string) => boolean)[]; except?: ReadonlySet<string> }
type Need = readonly Clause[];
const ANY: Need = Object.freeze([]);

/** The set member of a oneof: protobufjs' discriminator when present, else the first key that is set. */
export function oneof<T extends object, K extends string>(o: T, disc: string, keys: readonly K[]): K | undefined {
  const d = (o as Record<string, unknown>)[disc];
  if (typeof d === 'string' && (keys as readonly string[]).includes(d)) return d as K;
  return keys.find((k) => { const v = (o as Record<string, unknown>)[k]; return v !== undefined && v !== null && v !== false; });
}

// Envoy's RBAC oneofs, named once for the index here and the engine (rbacEngine.ts)
export const permissionRule = (p: Permission) => oneof(p, 'rule', ['and_rules', 'or_rules', 'any', 'header', 'url_path', 'destination_ip', 'destination_port', 'not_rule'] as const);
export const principalIdentifier = (p: Principal) => oneof(p, 'identifier', ['and_ids', 'or_ids', 'any', 'authenticated', 'direct_remote_ip', 'remote_ip', 'header', 'not_id'] as const);
export const stringPattern = (m: StringMatcher) => oneof(m, 'match_pattern', ['exact', 'prefix', 'suffix', 'contains', 'safe_regex'] as const);
export const headerSpecifier = (h: HeaderMatcher) => oneof(h, 'header_match_specifier', ['string_match', 'present_match'] as const);

function stringNeed(m: StringMatcher | undefined): Need {
  if (!m || m.ignore_case === true) return ANY;
  switch (stringPattern(m)) {
    case 'exact': return [{ only: new Set([m.exact!]) }];
    case 'prefix': { const v = m.prefix!; return [{ patterns: [(s) => s.startsWith(v)] }]; }
    case 'suffix': { const v = m.suffix!; return [{ patterns: [(s) => s.endsWith(v)] }]; }
    case 'contains': { const v = m.contains!; return [{ patterns: [(s) => s.includes(v)] }]; }
    case 'safe_regex': { const re = new RegExp(`^(?:${m.safe_regex!.regex})$`); return [{ patterns: [(s) => re.test(s)] }]; }
    default: return ANY;
  }
}

/** or: one positive clause gathering every branch's, when each branch is one; else unknown. */
function anyOf(needs: Need[]): Need {
  if (needs.length === 0) return [{ only: new Set() }]; // an empty or matches nothing
  if (needs.length === 1) return needs[0]!;
  if (needs.some((n) => n.length !== 1 || n[0]!.except)) return ANY;
  return [{ only: new Set(needs.flatMap((n) => [...(n[0]!.only ?? [])])), patterns: needs.flatMap((n) => n[0]!.patterns ?? []) }];
}

/** not: a single positive clause of exact values becomes a negative one; anything else is unknown. */
function noneOf(n: Need): Need {
  return n.length === 1 && n[0]!.only && !n[0]!.patterns?.length && !n[0]!.except ? [{ except: n[0]!.only }] : ANY;
}

export function principalNeed(p: Principal): Need {
  switch (principalIdentifier(p)) {
    case 'authenticated': return stringNeed(p.authenticated?.principal_name);
    case 'and_ids': return (p.and_ids?.ids ?? []).flatMap(principalNeed);
    case 'or_ids': return anyOf((p.or_ids?.ids ?? []).map(principalNeed));
    case 'not_id': return noneOf(principalNeed(p.not_id!));
    default: return ANY;
  }
}

export function methodNeed(p: Permission): Need {
  switch (permissionRule(p)) {
    case 'header': {
      const h = p.header!;
      if (h.name.toLowerCase() !== ':method' || headerSpecifier(h) !== 'string_match') return ANY;
      // an absent method (TCP) never matches a header matcher, inverted or not: only exact values are kept
      const n = stringNeed(h.string_match);
      return h.invert_match === true ? ANY : n;
    }
    case 'and_rules': return (p.and_rules?.rules ?? []).flatMap(methodNeed);
    case 'or_rules': return anyOf((p.or_rules?.rules ?? []).map(methodNeed));
    case 'not_rule': return noneOf(methodNeed(p.not_rule!));
    default: return ANY;
  }
}

const holds = (n: Need, v: string): boolean => n.every((c) => (c.except ? !c.except.has(v) : (c.only?.has(v) ?? false) || (c.patterns?.some((f) => f(v)) ?? false)));

/** Candidate policy positions (ascending) for a request's principal ('' = none) and method ('' = none, e.g. TCP). */
export type CandidateIndex = (principal: string, method: string) => readonly number[];

/** A value no matcher names (the `only`/`except` sets decide alike for every such value). */
const UNNAMED = '\u0000';
/** per principal, when patterns make each principal its own key: the cache is cleared when it holds this many */
const MAX_CACHED = 4096;

/** The candidates per (principal, method), cached; values no policy names share one entry where patterns allow. */
export function candidateIndex(policies: readonly { principals: readonly Principal[]; permissions: readonly Permission[] }[]): CandidateIndex {
  const needs = policies.map((p) => ({ principal: anyOf(p.principals.map(principalNeed)), method: anyOf(p.permissions.map(methodNeed)) }));
  const all = needs.map((_, i) => i);
  if (needs.every((n) => n.principal.length === 0 && n.method.length === 0)) return () => all;
  const named = (k: 'principal' | 'method') => new Set(needs.flatMap((n) => n[k].flatMap((c) => [...(c.only ?? []), ...(c.except ?? [])])));
  const hasPatterns = (k: 'principal' | 'method') => needs.some((n) => n[k].some((c) => c.patterns?.length));
  // with patterns, whether a value matches depends on the value itself: each is its own key (bounded cache)
  const keyer = (k: 'principal' | 'method'): ((v: string) => string) => { const s = named(k); return hasPatterns(k) ? (v) => v : (v) => (s.has(v) ? v : UNNAMED); };
  const principalKey = keyer('principal');
  const methodKey = keyer('method');
  // nested maps keyed by the request's own strings: no key is built per request, and a principal string (one per
  // connection) or a method (interned by node's HTTP parser) keeps its hash
  const cache = new Map<string, Map<string, readonly number[]>>();
  return (principal, method) => {
    const p = principalKey(principal);
    let byMethod = cache.get(p);
    if (!byMethod) {
      if (cache.size >= MAX_CACHED) cache.clear();
      cache.set(p, (byMethod = new Map()));
    }
    const m = methodKey(method);
    let c = byMethod.get(m);
    if (!c) {
      if (byMethod.size >= MAX_CACHED) byMethod.clear();
      c = all.filter((i) => holds(needs[i]!.principal, p) && holds(needs[i]!.method, m));
      byMethod.set(m, c);
    }
    return c;
  };
}
