// The Istio-style request metrics both sidecar directions record (one definition, so either may register first).
import { Counter, Histogram, metric, type Registry } from '../observe/metrics.ts';

export const REQUEST_LABELS = ['reporter', 'source_workload', 'source_cluster', 'source_region', 'destination_service', 'destination_region', 'response_code'] as const;
export type RequestLabels = Partial<Record<(typeof REQUEST_LABELS)[number], string>>;

export function requestMetrics(registry: Registry): { requests: Counter<string>; duration: Histogram<string>; requestBytes: Counter<string>; responseBytes: Counter<string> } {
  const labelNames = [...REQUEST_LABELS];
  return {
    requests: metric(registry, 'istio_requests_total', (registers) => new Counter({ name: 'istio_requests_total', help: 'Requests handled', labelNames, registers })),
    duration: metric(registry, 'istio_request_duration_milliseconds', (registers) => new Histogram({ name: 'istio_request_duration_milliseconds', help: 'Request duration', labelNames, buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000], registers })),
    requestBytes: metric(registry, 'istio_request_bytes_total', (registers) => new Counter({ name: 'istio_request_bytes_total', help: 'Request body bytes', labelNames, registers })),
    responseBytes: metric(registry, 'istio_response_bytes_total', (registers) => new Counter({ name: 'istio_response_bytes_total', help: 'Response body bytes', labelNames, registers })),
  };
}

/** W3C trace context: keep a valid incoming traceparent, else start a new trace (sampled). */
export function traceparent(incoming: string | string[] | undefined, random: (n: number) => string): string {
  const v = Array.isArray(incoming) ? incoming[0] : incoming;
  if (v && /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/.test(v) && !/^[0-9a-f]{2}-0{32}-/.test(v)) return v;
  return `00-${random(16)}-${random(8)}-01`;
}
