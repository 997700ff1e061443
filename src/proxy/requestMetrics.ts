// Istio-style request telemetry shared by the sidecar's outbound (reporter="source") and inbound
// (reporter="destination") on one registry: one label set, so both sides register the same metric.
// Region labels: only the source reporter carries BOTH source_region and destination_region, so a dashboard that
// sums istio_requests_total by source_region → destination_region counts each request once.
import { Counter, Histogram, metric, type Registry } from '../observe/metrics.ts';

export const REQUEST_LABELS = ['reporter', 'source_workload', 'source_cluster', 'source_region', 'destination_service', 'destination_cluster', 'destination_region', 'response_code'] as const;
export type RequestLabel = (typeof REQUEST_LABELS)[number];
export type RequestLabels = Partial<Record<RequestLabel, string>>;

export interface RequestMetrics {
  requests: Counter<RequestLabel>;
  duration: Histogram<RequestLabel>;
  requestBytes: Counter<RequestLabel>;
  responseBytes: Counter<RequestLabel>;
}

export function requestMetrics(r: Registry): RequestMetrics {
  const labelNames = [...REQUEST_LABELS];
  return {
    requests: metric(r, 'istio_requests_total', (registers) => new Counter({ name: 'istio_requests_total', help: 'Requests handled', labelNames, registers })),
    duration: metric(r, 'istio_request_duration_milliseconds', (registers) => new Histogram({ name: 'istio_request_duration_milliseconds', help: 'Request duration until the response headers', labelNames, buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000], registers })),
    requestBytes: metric(r, 'istio_request_bytes_total', (registers) => new Counter({ name: 'istio_request_bytes_total', help: 'Request body bytes', labelNames, registers })),
    responseBytes: metric(r, 'istio_response_bytes_total', (registers) => new Counter({ name: 'istio_response_bytes_total', help: 'Response body bytes', labelNames, registers })),
  };
}

/** Header the calling sidecar sets (and the inbound strips) so the destination knows the caller's cluster. */
export const PEER_HEADER = 'x-meshfed-peer';
export function peerHeader(cluster: string, region: string): string { return `cluster=${cluster};region=${region}`; }
export function parsePeerHeader(v: string | string[] | undefined): { cluster?: string; region?: string } {
  const s = Array.isArray(v) ? v[0] : v;
  const out: { cluster?: string; region?: string } = {};
  for (const kv of (s ?? '').split(';')) {
    const [k, val] = kv.split('=');
    if (val && /^[a-z0-9.-]{1,63}$/i.test(val) && (k === 'cluster' || k === 'region')) out[k] = val;
  }
  return out;
}
