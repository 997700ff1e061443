// Pure: the sidecar's HTTP routing from RDS — RouteConfiguration `<host>:<port>` (decoded xDS JSON) compiled into
// matchers, weighted destinations (as gateway SNIs), retries, timeouts, faults and header edits; then per request:
// which route matches and which destination a weighted split picks. Envoy's semantics where they apply to HTTP/1.1.
import { gatewaySni, parseOutboundClusterName } from '../mesh/names.ts';
import { unpackAny, type AnyMessage } from '../xds/protos.ts';

export interface StringMatcher { exact?: string; prefix?: string; regex?: RegExp }
export interface RouteMatch {
  /** exactly this path (query string removed) */
  path?: string;
  /** the path (query string included) starts with this */
  prefix?: string;
  /** the whole path (query string removed) matches */
  regex?: RegExp;
  /** every header must be present and match; `:method` is the request method */
  headers: readonly { name: string; match: StringMatcher }[];
}
export interface WeightedDestination { sni: string; weight: number }
export interface RetryPolicy {
  /** retries after the first try (Envoy num_retries) */
  retries: number;
  perTryTimeoutMs?: number;
  retryOn: ReadonlySet<string>;
}
export interface FaultPolicy { delayMs?: number; delayPercent: number; abortStatus?: number; abortPercent: number }
export interface HttpRoute {
  name: string;
  match: RouteMatch;
  destinations: readonly WeightedDestination[];
  timeoutMs?: number;
  retry?: RetryPolicy;
  fault?: FaultPolicy;
  /** consistent-hash key: the value of this request header */
  hashHeader?: string;
  setHeaders: readonly [string, string][];
  appendHeaders: readonly [string, string][];
  removeHeaders: readonly string[];
}
/** `<host>:<port>` (the RDS name) → its routes in order. */
export type RouteTable = ReadonlyMap<string, readonly HttpRoute[]>;

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' ? (v as Json) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => {
  const n = typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : NaN;
  return Number.isFinite(n) ? n : undefined;
};
const wrapped = (v: unknown): number | undefined => (v && typeof v === 'object' ? num((v as Json).value) : undefined);

/** google.protobuf.Duration (decoded: seconds as string) → ms; undefined when absent. */
export function durationMs(v: unknown): number | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const d = v as Json;
  const s = num(d.seconds) ?? 0;
  const n = num(d.nanos) ?? 0;
  return s * 1000 + Math.round(n / 1e6);
}

/** RE2 safe_regex → a JS RegExp that must match the whole input (Envoy's semantics). */
function fullRegex(re: string, where: string): RegExp {
  try { return new RegExp(`^(?:${re})$`); } catch (e) { throw new Error(`${where}: bad regex ${JSON.stringify(re)}: ${(e as Error).message}`); }
}

function stringMatcher(m: Json, where: string): StringMatcher {
  if (typeof m.exact === 'string' && (m.match_pattern === 'exact' || m.match_pattern === undefined)) return { exact: m.exact };
  if (m.match_pattern === 'prefix' || (m.match_pattern === undefined && typeof m.prefix === 'string')) return { prefix: String(m.prefix ?? '') };
  if (m.match_pattern === 'safe_regex' || m.safe_regex) return { regex: fullRegex(String(obj(m.safe_regex).regex ?? ''), where) };
  throw new Error(`${where}: unsupported string matcher ${JSON.stringify(Object.keys(m))}`);
}

function compileMatch(m: Json, where: string): RouteMatch {
  const out: { path?: string; prefix?: string; regex?: RegExp; headers: { name: string; match: StringMatcher }[] } = { headers: [] };
  const spec = m.path_specifier as string | undefined;
  if (spec === 'path' || (spec === undefined && typeof m.path === 'string' && m.path !== '')) out.path = String(m.path);
  else if (spec === 'safe_regex' || (spec === undefined && m.safe_regex)) out.regex = fullRegex(String(obj(m.safe_regex).regex ?? ''), where);
  else if (spec === 'prefix' || spec === undefined) out.prefix = String(m.prefix ?? '');
  else throw new Error(`${where}: unsupported path match ${spec}`);
  for (const h of (m.headers as Json[] | undefined) ?? []) {
    const name = String(h.name ?? '').toLowerCase();
    const spec = h.header_match_specifier as string | undefined;
    const at = `${where} header ${name}`;
    let match: StringMatcher;
    if (spec === 'string_match' || (spec === undefined && h.string_match)) match = stringMatcher(obj(h.string_match), at);
    else if (spec === 'exact_match') match = { exact: String(h.exact_match ?? '') };
    else if (spec === 'prefix_match') match = { prefix: String(h.prefix_match ?? '') };
    else if (spec === 'present_match') match = { prefix: '' };
    else throw new Error(`${at}: unsupported header match ${spec ?? JSON.stringify(Object.keys(h))}`);
    out.headers.push({ name, match });
  }
  return out;
}

function clusterSni(name: string, where: string): string {
  const p = parseOutboundClusterName(name);
  if (!p) throw new Error(`${where}: cluster "${name}" is not outbound|<port>|<subset>|<host>`);
  return gatewaySni(p.host, p.port, p.subset);
}

function compileFault(any: unknown, where: string): FaultPolicy | undefined {
  if (!any || typeof any !== 'object') return undefined;
  const f = unpackAny<Json>(any as AnyMessage);
  const pct = (p: unknown): number => {
    const fp = obj(p);
    const n = num(fp.numerator) ?? 0;
    const den = fp.denominator === 'TEN_THOUSAND' || fp.denominator === 1 ? 10_000 : fp.denominator === 'MILLION' || fp.denominator === 2 ? 1_000_000 : 100;
    return (n / den) * 100;
  };
  const delay = obj(f.delay);
  const abort = obj(f.abort);
  const out: FaultPolicy = { delayPercent: 0, abortPercent: 0 };
  const ms = durationMs(delay.fixed_delay);
  if (ms !== undefined && Object.keys(delay).length) { out.delayMs = ms; out.delayPercent = pct(delay.percentage); }
  const status = num(abort.http_status);
  if (status) {
    if (status < 200 || status > 599) throw new Error(`${where}: abort http_status ${status} is not 200..599`);
    out.abortStatus = status;
    out.abortPercent = pct(abort.percentage);
  }
  return out.delayMs !== undefined || out.abortStatus !== undefined ? out : undefined;
}

/** One decoded RouteConfiguration → its routes. Throws (→ NACK) on anything it cannot honor faithfully. */
export function compileRouteConfig(rc: Json): HttpRoute[] {
  const name = String(rc.name ?? '');
  const vhosts = (rc.virtual_hosts as Json[] | undefined) ?? [];
  const routes: HttpRoute[] = [];
  for (const vh of vhosts) {
    for (const [i, r] of ((vh.routes as Json[] | undefined) ?? []).entries()) {
      const where = `route ${name}/${String(r.name ?? i)}`;
      const action = obj(r.route);
      let destinations: WeightedDestination[];
      const wc = obj(action.weighted_clusters);
      if (Array.isArray(wc.clusters) && wc.clusters.length) {
        destinations = (wc.clusters as Json[]).map((c) => ({ sni: clusterSni(String(c.name ?? ''), where), weight: wrapped(c.weight) ?? 0 }));
        if (!destinations.some((d) => d.weight > 0)) throw new Error(`${where}: weighted clusters with no positive weight`);
      } else if (typeof action.cluster === 'string' && action.cluster) {
        destinations = [{ sni: clusterSni(action.cluster, where), weight: 1 }];
      } else {
        throw new Error(`${where}: only cluster and weighted_clusters route actions are supported`);
      }
      const rp = obj(action.retry_policy);
      const retries = wrapped(rp.num_retries);
      const retry: RetryPolicy | undefined = Object.keys(rp).length && retries !== undefined
        ? { retries, ...(durationMs(rp.per_try_timeout) ? { perTryTimeoutMs: durationMs(rp.per_try_timeout)! } : {}), retryOn: new Set(String(rp.retry_on ?? '').split(',').map((s) => s.trim()).filter(Boolean)) }
        : undefined;
      const timeoutMs = durationMs(action.timeout);
      const hashHeader = ((action.hash_policy as Json[] | undefined) ?? []).map((h) => str(obj(h.header).header_name)).find(Boolean);
      const fault = compileFault(obj(r.typed_per_filter_config)['envoy.filters.http.fault'], where);
      const setHeaders: [string, string][] = [];
      const appendHeaders: [string, string][] = [];
      for (const h of (r.request_headers_to_add as Json[] | undefined) ?? []) {
        const hv = obj(h.header);
        const pair: [string, string] = [String(hv.key ?? '').toLowerCase(), String(hv.value ?? '')];
        if (!pair[0]) continue;
        (h.append_action === 'APPEND_IF_EXISTS_OR_ADD' ? appendHeaders : setHeaders).push(pair);
      }
      routes.push({
        name: String(r.name ?? `${name}/${i}`),
        match: compileMatch(obj(r.match), where),
        destinations,
        ...(timeoutMs ? { timeoutMs } : {}),
        ...(retry ? { retry } : {}),
        ...(fault ? { fault } : {}),
        ...(hashHeader ? { hashHeader: hashHeader.toLowerCase() } : {}),
        setHeaders,
        appendHeaders,
        removeHeaders: ((r.request_headers_to_remove as string[] | undefined) ?? []).map((h) => h.toLowerCase()),
      });
    }
  }
  return routes;
}

export function routeTable(configs: readonly Json[]): Map<string, HttpRoute[]> {
  const out = new Map<string, HttpRoute[]>();
  for (const rc of configs) out.set(String(rc.name ?? ''), compileRouteConfig(rc));
  return out;
}

function matchString(m: StringMatcher, v: string): boolean {
  if (m.exact !== undefined) return v === m.exact;
  if (m.prefix !== undefined) return v.startsWith(m.prefix);
  return m.regex!.test(v);
}

export interface RequestView { method: string; path: string; headers: Readonly<Record<string, string | string[] | undefined>> }

export function routeMatches(m: RouteMatch, req: RequestView): boolean {
  const q = req.path.indexOf('?');
  const bare = q < 0 ? req.path : req.path.slice(0, q);
  if (m.path !== undefined && bare !== m.path) return false;
  if (m.prefix !== undefined && !req.path.startsWith(m.prefix)) return false;
  if (m.regex && !m.regex.test(bare)) return false;
  for (const h of m.headers) {
    const raw = h.name === ':method' ? req.method : req.headers[h.name];
    if (raw === undefined) return false;
    if (!matchString(h.match, Array.isArray(raw) ? raw.join(',') : raw)) return false;
  }
  return true;
}

/** The first route whose match holds, as Envoy picks; undefined = no route (Envoy answers 404). */
export function selectRoute(routes: readonly HttpRoute[], req: RequestView): HttpRoute | undefined {
  return routes.find((r) => routeMatches(r.match, req));
}

/** Weighted choice; `rand` in [0, 1). */
export function pickDestination(ds: readonly WeightedDestination[], rand: number): WeightedDestination {
  const total = ds.reduce((s, d) => s + Math.max(0, d.weight), 0);
  let x = rand * total;
  for (const d of ds) {
    if (d.weight <= 0) continue;
    if (x < d.weight) return d;
    x -= d.weight;
  }
  return ds.filter((d) => d.weight > 0).at(-1)!;
}

/** Envoy's retry_on conditions for an HTTP/1.1 outcome: a status, or a reset/timeout after the request went out. */
export function shouldRetry(retryOn: ReadonlySet<string>, outcome: { status: number } | { reset: true } | { timeout: true }): boolean {
  if ('reset' in outcome) return retryOn.has('reset') || retryOn.has('5xx');
  // Envoy: 5xx and reset include "no answer at all" (a per-try timeout); gateway-error treats it as a 504
  if ('timeout' in outcome) return retryOn.has('5xx') || retryOn.has('gateway-error') || retryOn.has('reset');
  const s = outcome.status;
  if (retryOn.has('5xx') && s >= 500) return true;
  if (retryOn.has('gateway-error') && (s === 502 || s === 503 || s === 504)) return true;
  if (retryOn.has('retriable-4xx') && s === 409) return true;
  // Istio pairs retriable-status-codes with 503 (and `unavailable`, gRPC's 14, arrives over HTTP/1.1 as a 503)
  if ((retryOn.has('retriable-status-codes') || retryOn.has('unavailable')) && s === 503) return true;
  return false;
}

/** Did the fault sampling select this request? `rand` in [0, 1). */
export const sampled = (percent: number, rand: number): boolean => rand * 100 < percent;

/** Apply a route's header edits to outgoing request headers (lower-case names). */
export function editHeaders(h: Record<string, string | string[] | number | undefined>, r: HttpRoute): void {
  for (const name of r.removeHeaders) delete h[name];
  for (const [k, v] of r.setHeaders) h[k] = v;
  for (const [k, v] of r.appendHeaders) {
    const cur = h[k];
    h[k] = cur === undefined ? v : Array.isArray(cur) ? [...cur, v] : [String(cur), v];
  }
}
