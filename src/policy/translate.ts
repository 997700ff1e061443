/** Pure translation of accepted VirtualServices / DestinationRules into Envoy xDS v3 JSON (snake_case, for packAny). */
import { outboundClusterName } from '../mesh/names.ts';
import { packAny, TYPE_URL } from '../xds/protos.ts';
import { parseDuration, toProtoDuration } from './duration.ts';
import type { DestinationRule, HttpFault, HttpRoute, StringMatch, Subset, TrafficPolicy, VirtualService } from './types.ts';

export type XdsJson = Record<string, unknown>;

function durationOf(text: string): { seconds: number; nanos: number } {
  const d = parseDuration(text);
  if ('error' in d) throw new Error(`translate: ${d.error} (validate before translating)`);
  return toProtoDuration(d.ms);
}

/** Percent 0..100 (may be fractional) → envoy.type.v3.FractionalPercent per million. */
function fraction(value: number | undefined): XdsJson {
  return { numerator: Math.round((value ?? 100) * 10_000), denominator: 'MILLION' };
}

function stringMatcher(m: StringMatch): XdsJson {
  if (m.exact !== undefined) return { exact: m.exact };
  if (m.prefix !== undefined) return { prefix: m.prefix };
  return { safe_regex: { regex: m.regex ?? '' } };
}

function headerMatcher(name: string, m: StringMatch): XdsJson {
  return { name, string_match: stringMatcher(m) };
}

function routeMatches(r: HttpRoute): XdsJson[] {
  if (!r.match?.length) return [{ prefix: '/' }];
  return r.match.map((m) => {
    const out: XdsJson = {};
    if (m.uri?.exact !== undefined) out.path = m.uri.exact;
    else if (m.uri?.prefix !== undefined) out.prefix = m.uri.prefix;
    else if (m.uri?.regex !== undefined) out.safe_regex = { regex: m.uri.regex };
    else out.prefix = '/';
    const headers = Object.entries(m.headers ?? {}).map(([h, hm]) => headerMatcher(h.toLowerCase(), hm));
    if (m.method) headers.push(headerMatcher(':method', m.method));
    if (headers.length) out.headers = headers;
    return out;
  });
}

export function faultFilterConfig(f: HttpFault): XdsJson {
  const out: XdsJson = {};
  if (f.delay) out.delay = { fixed_delay: durationOf(f.delay.fixedDelay), percentage: fraction(f.delay.percentage?.value) };
  if (f.abort) out.abort = { http_status: f.abort.httpStatus, percentage: fraction(f.abort.percentage?.value) };
  return out;
}

/** RouteConfiguration routes for one VirtualService; `defaultPort` is the service port when a destination names none. */
export function translateRoutes(vs: VirtualService, defaultPort: number, ringHashHeaders: ReadonlyMap<string, string> = new Map()): XdsJson[] {
  const routes: XdsJson[] = [];
  (vs.spec.http ?? []).forEach((r, i) => {
    const clusters = r.route.map((d) => ({
      name: outboundClusterName(d.destination.host, d.destination.port?.number ?? defaultPort, d.destination.subset ?? ''),
      weight: { value: d.weight ?? 100 },
    }));
    const action: XdsJson = clusters.length === 1 ? { cluster: clusters[0]!.name } : { weighted_clusters: { clusters } };
    if (r.timeout) {
      // Envoy reads `timeout`; gRPC xDS clients (grpc-js-xds) read only max_stream_duration (gRFC A31), as Istio sets
      action.timeout = durationOf(r.timeout);
      action.max_stream_duration = { max_stream_duration: durationOf(r.timeout), grpc_timeout_header_max: durationOf(r.timeout) };
    }
    if (r.retries && r.retries.attempts > 0) {
      action.retry_policy = {
        retry_on: r.retries.retryOn ?? 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
        num_retries: { value: r.retries.attempts },
        ...(r.retries.perTryTimeout ? { per_try_timeout: durationOf(r.retries.perTryTimeout) } : {}),
      };
    }
    const hashHeader = ringHashHeaders.get(r.route[0]!.destination.host);
    if (hashHeader) action.hash_policy = [{ header: { header_name: hashHeader.toLowerCase() } }];
    for (const [j, match] of routeMatches(r).entries()) {
      const route: XdsJson = { name: `${vs.metadata.namespace}/${vs.metadata.name}/${r.name ?? i}/${j}`, match, route: action };
      if (r.fault) route.typed_per_filter_config = { 'envoy.filters.http.fault': packAny(TYPE_URL.fault, faultFilterConfig(r.fault)) };
      const req = r.headers?.request;
      if (req?.set || req?.add) {
        route.request_headers_to_add = [
          ...Object.entries(req.set ?? {}).map(([key, value]) => ({ header: { key, value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' })),
          ...Object.entries(req.add ?? {}).map(([key, value]) => ({ header: { key, value }, append_action: 'APPEND_IF_EXISTS_OR_ADD' })),
        ];
      }
      if (req?.remove?.length) route.request_headers_to_remove = req.remove;
      routes.push(route);
    }
  });
  return routes;
}

function mergedPolicy(base: TrafficPolicy | undefined, over: TrafficPolicy | undefined): TrafficPolicy {
  return { ...base, ...over };
}

/**
 * Cluster fields (lb, circuit breakers, outlier detection) for one traffic policy. `proxyless`: the client is
 * @grpc/grpc-js-xds 1.14, which NACKs a Cluster whose lb_policy is not ROUND_ROBIN or RING_HASH, so
 * LEAST_REQUEST and RANDOM fall back to ROUND_ROBIN there.
 */
export function clusterPolicyFields(tp: TrafficPolicy, proxyless = false): XdsJson {
  const out: XdsJson = {};
  const lb = tp.loadBalancer;
  if (lb?.consistentHash) out.lb_policy = 'RING_HASH';
  else if (lb?.simple) out.lb_policy = proxyless ? 'ROUND_ROBIN' : lb.simple;
  const cp = tp.connectionPool;
  const thresholds: XdsJson = {};
  if (cp?.tcp?.maxConnections !== undefined) thresholds.max_connections = { value: cp.tcp.maxConnections };
  if (cp?.http?.http1MaxPendingRequests !== undefined) thresholds.max_pending_requests = { value: cp.http.http1MaxPendingRequests };
  if (Object.keys(thresholds).length) out.circuit_breakers = { thresholds: [thresholds] };
  if (cp?.http?.maxRequestsPerConnection) out.common_http_protocol_options = { max_requests_per_connection: { value: cp.http.maxRequestsPerConnection } };
  const od = tp.outlierDetection;
  if (od) {
    // as Istio: success-rate ejection off (not in Istio's API; unset, grpc-js 1.14 crashes on its first check)
    const o: XdsJson = { enforcing_success_rate: { value: 0 } };
    if (od.consecutive5xxErrors !== undefined) o.consecutive_5xx = { value: od.consecutive5xxErrors };
    if (od.consecutiveGatewayErrors !== undefined) o.consecutive_gateway_failure = { value: od.consecutiveGatewayErrors };
    if (od.interval) o.interval = durationOf(od.interval);
    if (od.baseEjectionTime) o.base_ejection_time = durationOf(od.baseEjectionTime);
    if (od.maxEjectionPercent !== undefined) o.max_ejection_percent = { value: od.maxEjectionPercent };
    out.outlier_detection = o;
  }
  return out;
}

/** The default cluster and one per subset (`outbound|<port>|<subset>|<host>`), EDS via ADS. */
export function translateClusters(dr: DestinationRule, port: number, proxyless = false): XdsJson[] {
  const eds = { eds_config: { ads: {} } };
  const make = (subset: Subset | undefined): XdsJson => {
    const name = outboundClusterName(dr.spec.host, port, subset?.name ?? '');
    return { name, type: 'EDS', eds_cluster_config: { ...eds, service_name: name }, ...clusterPolicyFields(mergedPolicy(dr.spec.trafficPolicy, subset?.trafficPolicy), proxyless) };
  };
  return [make(undefined), ...(dr.spec.subsets ?? []).map((s) => make(s))];
}

/** Endpoints of a subset: those whose labels include every subset label. */
export function filterBySubset<E extends { labels: Record<string, string> }>(endpoints: readonly E[], subset: Subset): E[] {
  return endpoints.filter((e) => Object.entries(subset.labels).every(([k, v]) => e.labels[k] === v));
}
