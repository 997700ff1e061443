// Pure routing decisions for the east-west gateway: SNI + EDS state + outlier state → endpoint.
import { parseGatewaySni } from '../mesh/names.ts';

export interface Endpoint {
  address: string;
  port: number;
  healthy: boolean;
  /** EDS locality priority: 0 = closest; a higher level is used only when no lower one has an available endpoint */
  priority?: number;
  /** region of the endpoint's EDS locality (telemetry) */
  region?: string;
  /** member cluster reported for the endpoint (EDS metadata meshfed.cluster; a remote network's gateway cluster) */
  cluster?: string;
  /** its EDS locality (`region/zone/subzone`) and that locality's load_balancing_weight (locality-weighted lb) */
  locality?: string;
  localityWeight?: number;
}

/** Cluster name (== the SNI the client sends) → its endpoints on this network, from CDS/EDS. */
export type EndpointTable = ReadonlyMap<string, readonly Endpoint[]>;

export interface OutlierEntry {
  consecutiveFailures: number;
  ejections: number;
  ejectedUntil: number;
  /** what ejected it: connection failures (refused, reset, handshake) — a successful probe ends those — or answers (5xx) */
  cause?: 'connect' | 'answer';
}
export type OutlierState = Map<string, OutlierEntry>;

export interface OutlierPolicy { consecutiveFailures: number; baseEjectionMs: number; maxEjectionMs: number }
export const DEFAULT_OUTLIER: OutlierPolicy = { consecutiveFailures: 3, baseEjectionMs: 5000, maxEjectionMs: 60000 };

export type RouteDecision =
  | { kind: 'endpoint'; cluster: string; endpoint: Endpoint }
  | { kind: 'bad-sni'; reason: string }
  | { kind: 'unknown-service'; cluster: string }
  | { kind: 'no-endpoint'; cluster: string };

/** no endpoint excluded (route()'s default, and a connection's first attempt) */
export const NOTHING_EXCLUDED: ReadonlySet<string> = new Set();
const LEAST_REQUEST: LbChoice = { policy: 'LEAST_REQUEST' };

export const endpointKey = (e: { address: string; port: number }): string => `${e.address}:${e.port}`;

/**
 * Choose an endpoint for a connection. Ejected endpoints are skipped until their ejection ends (the next
 * connection is then the probe); `exclude` holds endpoints already tried for this connection.
 * Least-request: fewest active connections wins; ties broken by `tieBreak` (round-robin counter).
 */
export function route(
  sni: string,
  table: EndpointTable,
  outliers: ReadonlyMap<string, OutlierEntry>,
  active: ReadonlyMap<string, number>,
  now: number,
  exclude: ReadonlySet<string> = NOTHING_EXCLUDED,
  tieBreak = 0,
  lb: LbChoice = LEAST_REQUEST,
): RouteDecision {
  const cluster = sni.toLowerCase();
  const eps = table.get(cluster);
  // a name the table holds came from the control plane's own cluster names: only a miss is worth parsing, for why
  if (!eps) {
    if (!parseGatewaySni(sni)) return { kind: 'bad-sni', reason: `SNI "${sni.slice(0, 100)}" is not outbound_.<port>_.<subset>_.<host>` };
    return { kind: 'unknown-service', cluster };
  }
  let candidates = eps.filter((e) => {
    const k = endpointKey(e);
    if (!e.healthy || exclude.has(k)) return false;
    const o = outliers.get(k);
    return !o || o.ejectedUntil <= now;
  });
  // panic (Envoy's healthy_panic_threshold, at its limit): when ejection left nothing, an ejected endpoint is a
  // better bet than a certain 503
  if (candidates.length === 0 && lb.panic) candidates = eps.filter((e) => e.healthy && !exclude.has(endpointKey(e)));
  if (candidates.length === 0) return { kind: 'no-endpoint', cluster };
  // locality failover: only the closest priority level that still has an available endpoint
  let best = Infinity;
  for (const e of candidates) best = Math.min(best, e.priority ?? 0);
  let level = candidates.filter((e) => (e.priority ?? 0) === best);
  if (lb.localityWeighted) level = pickLocality(level, lb.localityRand ?? 0);
  if (lb.policy === 'ROUND_ROBIN') return { kind: 'endpoint', cluster, endpoint: level[tieBreak % level.length]! };
  if (lb.policy === 'RANDOM') return { kind: 'endpoint', cluster, endpoint: level[Math.floor((lb.rand ?? 0) * level.length) % level.length]! };
  if (lb.policy === 'RING_HASH' && lb.hashKey !== undefined) return { kind: 'endpoint', cluster, endpoint: rendezvous(level, lb.hashKey) };
  let min = Infinity;
  for (const e of level) min = Math.min(min, active.get(endpointKey(e)) ?? 0);
  const least = level.filter((e) => (active.get(endpointKey(e)) ?? 0) === min);
  return { kind: 'endpoint', cluster, endpoint: least[tieBreak % least.length]! };
}

/**
 * How route() picks within the closest priority level. RING_HASH uses rendezvous hashing on `hashKey`: the same
 * key keeps its endpoint while that endpoint is available, and only the keys of a removed endpoint move.
 */
export interface LbChoice {
  policy: 'LEAST_REQUEST' | 'ROUND_ROBIN' | 'RANDOM' | 'RING_HASH';
  hashKey?: string;
  rand?: number;
  /** Envoy's locality-weighted lb (pilot sets it for a DestinationRule `distribute`): first a locality by its weight */
  localityWeighted?: boolean;
  localityRand?: number;
  /** when every available endpoint is ejected, use the ejected ones rather than none */
  panic?: boolean;
}

/** Endpoints of one locality, chosen by locality weight among those with an available endpoint; `rand` in [0, 1). */
export function pickLocality(level: readonly Endpoint[], rand: number): Endpoint[] {
  const groups = new Map<string, Endpoint[]>();
  for (const e of level) {
    const g = groups.get(e.locality ?? '');
    if (g) g.push(e);
    else groups.set(e.locality ?? '', [e]);
  }
  if (groups.size < 2) return [...level];
  const all = [...groups.values()];
  const weight = (g: Endpoint[]): number => Math.max(0, g[0]!.localityWeight ?? g.length);
  const total = all.reduce((s, g) => s + weight(g), 0);
  if (total <= 0) return [...level];
  let x = rand * total;
  for (const g of all) {
    if (x < weight(g)) return g;
    x -= weight(g);
  }
  return all.at(-1)!;
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193); }
  // final avalanche so that keys differing in one character spread over all endpoints
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b); h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35); h ^= h >>> 16;
  return h >>> 0;
}

function rendezvous(eps: readonly Endpoint[], key: string): Endpoint {
  let best = eps[0]!;
  let top = -1;
  for (const e of eps) {
    const w = fnv1a(`${key}|${endpointKey(e)}`);
    if (w > top) { top = w; best = e; }
  }
  return best;
}

/** Record a connect outcome; returns true when this failure ejected the endpoint. */
export function recordOutcome(state: OutlierState, key: string, ok: boolean, now: number, policy: OutlierPolicy = DEFAULT_OUTLIER, mayEject = true, cause: 'connect' | 'answer' = 'connect'): boolean {
  const e = state.get(key) ?? { consecutiveFailures: 0, ejections: 0, ejectedUntil: 0 };
  if (ok) {
    if (e.ejectedUntil <= now) state.delete(key);
    return false;
  }
  e.consecutiveFailures += 1;
  const wasProbe = e.ejections > 0 && e.ejectedUntil <= now;
  let ejected = false;
  if (mayEject && (wasProbe || e.consecutiveFailures >= policy.consecutiveFailures)) {
    e.ejections += 1;
    e.ejectedUntil = now + Math.min(policy.baseEjectionMs * 2 ** (e.ejections - 1), policy.maxEjectionMs);
    e.consecutiveFailures = 0;
    e.cause = cause;
    ejected = true;
  }
  state.set(key, e);
  return ejected;
}

/** Endpoints ejected for connection failures right now: the ones an active probe (a TLS handshake) may bring back. */
export function probeTargets(state: ReadonlyMap<string, OutlierEntry>, now: number): string[] {
  const out: string[] = [];
  for (const [k, e] of state) if (e.ejectedUntil > now && e.cause === 'connect') out.push(k);
  return out;
}

/**
 * A probe of an ejected endpoint succeeded (Envoy: successful_active_health_check_uneject_host): the ejection ends
 * now instead of waiting out its (doubling) time. The ejection count stays, so the next request is the real probe:
 * an endpoint that fails again right after it returned is ejected again at once (flapping protection), and one that
 * answers is forgotten (recordOutcome ok).
 */
export function endEjection(state: OutlierState, key: string, now: number): boolean {
  const e = state.get(key);
  if (!e || e.ejectedUntil <= now) return false;
  e.ejectedUntil = now;
  e.consecutiveFailures = 0;
  return true;
}

/**
 * Outlier state after a new EDS table: an endpoint that pilot newly reports healthy (it was absent or unhealthy in
 * `before`) starts fresh, as do endpoints that are gone — a workload that went away and came back is not held out
 * by an ejection from its previous life. Endpoints reported healthy throughout keep their state.
 */
export function outliersAfterEds(state: OutlierState, before: EndpointTable, after: EndpointTable): string[] {
  const healthyBefore = new Set<string>();
  for (const eps of before.values()) for (const e of eps) if (e.healthy) healthyBefore.add(endpointKey(e));
  const healthyNow = new Set<string>();
  for (const eps of after.values()) for (const e of eps) if (e.healthy) healthyNow.add(endpointKey(e));
  const reset: string[] = [];
  for (const k of [...state.keys()]) {
    if (!healthyNow.has(k) || !healthyBefore.has(k)) { state.delete(k); reset.push(k); }
  }
  return reset;
}
