// Pure: what the sidecar honors of a CDS Cluster (decoded xDS JSON) — load balancing, circuit breakers (Istio's
// connectionPool) and outlier detection — keyed by the cluster's gateway SNI like the endpoint table.
import { gatewaySni, parseOutboundClusterName } from '../mesh/names.ts';
import { durationMs } from './httpRoutes.ts';
import type { OutlierPolicy } from './routing.ts';

export type LbPolicy = 'LEAST_REQUEST' | 'ROUND_ROBIN' | 'RANDOM' | 'RING_HASH';

export interface HttpOutlierPolicy extends OutlierPolicy {
  /** count only 502/503/504 (consecutive_gateway_failure) instead of every 5xx (consecutive_5xx) */
  gatewayErrorsOnly: boolean;
  maxEjectionPercent: number;
}

export interface ClusterPolicy {
  lb: LbPolicy;
  /** circuit breaker: connections to the cluster (Istio tcp.maxConnections); one request per connection in HTTP/1.1 */
  maxConnections?: number;
  /** circuit breaker: requests waiting for a connection (Istio http.http1MaxPendingRequests) */
  maxPendingRequests?: number;
  /** Istio http.maxRequestsPerConnection: a connection is closed after this many requests */
  maxRequestsPerConnection?: number;
  /** ejection on HTTP 5xx answers; undefined = none */
  outlier?: HttpOutlierPolicy;
  /** common_lb_config.locality_weighted_lb_config: pick a locality by its EDS weight first (DestinationRule distribute) */
  localityWeighted?: boolean;
}

export const DEFAULT_CLUSTER_POLICY: ClusterPolicy = { lb: 'LEAST_REQUEST' };

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' ? (v as Json) : {});
const wrapped = (v: unknown): number | undefined => {
  if (!v || typeof v !== 'object') return undefined;
  const n = Number((v as Json).value);
  return Number.isFinite(n) ? n : undefined;
};

// Envoy's default when a circuit-breaker threshold is unset is 1024; Istio sets 2^32-1 — i.e. no limit
const UNLIMITED = 0xffff_ffff;
const limit = (n: number | undefined): number | undefined => (n === undefined || n >= UNLIMITED ? undefined : n);

export function compileClusterPolicy(c: Json): ClusterPolicy {
  const lbName = String(c.lb_policy ?? 'ROUND_ROBIN');
  const lb: LbPolicy = lbName === 'RANDOM' ? 'RANDOM' : lbName === 'RING_HASH' || lbName === 'MAGLEV' ? 'RING_HASH' : lbName === 'LEAST_REQUEST' ? 'LEAST_REQUEST' : 'ROUND_ROBIN';
  const th = ((obj(c.circuit_breakers).thresholds as Json[] | undefined) ?? []).find((t) => !t.priority || t.priority === 'DEFAULT') ?? {};
  const out: ClusterPolicy = { lb };
  const common = obj(c.common_lb_config);
  if (common.locality_weighted_lb_config) out.localityWeighted = true;
  const mc = limit(wrapped(th.max_connections));
  const mp = limit(wrapped(th.max_pending_requests));
  const mr = wrapped(obj(c.common_http_protocol_options).max_requests_per_connection);
  if (mc !== undefined) out.maxConnections = mc;
  if (mp !== undefined) out.maxPendingRequests = mp;
  if (mr) out.maxRequestsPerConnection = mr;
  const od = obj(c.outlier_detection);
  if (Object.keys(od).length) {
    const c5 = wrapped(od.consecutive_5xx);
    const cg = wrapped(od.consecutive_gateway_failure);
    // Envoy enforces consecutive_gateway_failure only with enforcing_consecutive_gateway_failure (Istio sets it to
    // 100 when it writes the field); a DestinationRule names one or the other
    const gatewayOnly = cg !== undefined && c5 === undefined;
    const n = gatewayOnly ? cg : c5 ?? 5;
    if (n > 0) {
      const base = durationMs(od.base_ejection_time) ?? 30_000;
      out.outlier = {
        consecutiveFailures: n,
        baseEjectionMs: base,
        maxEjectionMs: Math.max(durationMs(od.max_ejection_time) ?? 300_000, base),
        gatewayErrorsOnly: gatewayOnly,
        maxEjectionPercent: wrapped(od.max_ejection_percent) ?? 10,
      };
    }
  }
  return out;
}

export function clusterPolicies(clusters: readonly Json[]): Map<string, ClusterPolicy> {
  const out = new Map<string, ClusterPolicy>();
  for (const c of clusters) {
    const p = parseOutboundClusterName(String(c.name ?? ''));
    if (p) out.set(gatewaySni(p.host, p.port, p.subset), compileClusterPolicy(c));
  }
  return out;
}

/** Does this HTTP status count against the endpoint under `p`? */
export function isOutlierFailure(p: HttpOutlierPolicy, status: number): boolean {
  return p.gatewayErrorsOnly ? status === 502 || status === 503 || status === 504 : status >= 500;
}

/** Circuit breaker: may one more request start, given `inflight` requests to the cluster already? */
export function admits(p: ClusterPolicy, inflight: number): boolean {
  if (p.maxConnections === undefined && p.maxPendingRequests === undefined) return true;
  const conns = p.maxConnections ?? UNLIMITED;
  const pending = p.maxPendingRequests ?? UNLIMITED;
  return inflight < conns + pending;
}
