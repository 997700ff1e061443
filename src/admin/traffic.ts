// Pure: request figures per flow (source workload → destination service in a cluster) from proxies' Prometheus
// text, the difference between two scrapes of one proxy, and rates over a window of such differences.
// Only the source reporter (the calling sidecar) is counted, so every request is counted once.
import type { Sample } from './promtext.ts';
import { AUTHZ_METRIC } from './denials.ts';

/** istio_request_duration_milliseconds buckets as the proxies export them (src/proxy/requestMetrics.ts), +Inf last. */
export const DURATION_BUCKETS = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000, Infinity] as const;

export interface FlowKey {
  srcWorkload: string;
  srcCluster: string;
  srcRegion: string;
  /** the destination's hostname as the proxy saw it (echo.demo.svc.cluster.local) */
  dstService: string;
  /** the endpoint's cluster; for an endpoint behind a remote network's gateway, the gateway's cluster */
  dstCluster: string;
  dstRegion: string;
}

/** Counters of one flow; `buckets` are cumulative counts per DURATION_BUCKETS entry. */
export interface FlowCounts {
  key: FlowKey;
  requests: number;
  errors: number;
  buckets: number[];
}

/** What one scrape of one proxy says: flows by flowId, and gateway outlier ejections by service label. */
export interface ProxyTotals {
  flows: Map<string, FlowCounts>;
  ejections: Map<string, number>;
}

export const flowId = (k: FlowKey): string => `${k.srcCluster}/${k.srcWorkload}>${k.dstService}@${k.dstCluster}`;

const REQUESTS = 'istio_requests_total';
const BUCKET = 'istio_request_duration_milliseconds_bucket';
const EJECTIONS = 'meshfed_gateway_outlier_ejections_total';
/** The metric names the collector reads: lines of others are skipped unparsed (cheap at 1,000 proxies). */
export const WANTED_METRICS = [REQUESTS, BUCKET, EJECTIONS, AUTHZ_METRIC] as const;

/**
 * The samples of WANTED_METRICS only, with a scanner made for them (5–10× faster than the general parser on a
 * sidecar's text, which is mostly histogram lines); the destination reporter's lines are skipped unparsed.
 * Lines it cannot read are skipped: a proxy's bad line costs its own figures, never the round.
 */
export function parseWanted(text: string): Sample[] {
  const out: Sample[] = [];
  let pos = 0;
  while (pos < text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    const at = pos;
    pos = end + 1;
    // other metrics' lines are skipped without being copied
    const name = WANTED_METRICS.find((m) => text.startsWith(m, at) && (text[at + m.length] === '{' || text[at + m.length] === ' '));
    if (!name) continue;
    const line = text.slice(at, end);
    if (line.includes('reporter="destination"')) continue;
    const labels: Record<string, string> = {};
    let i = name.length;
    if (line[i] === '{') {
      i++;
      while (i < line.length && line[i] !== '}') {
        const eq = line.indexOf('="', i);
        if (eq < 0) break;
        const key = line.slice(i, eq).trim();
        let j = eq + 2;
        let val: string;
        const q = line.indexOf('"', j);
        const bs = line.indexOf('\\', j);
        if (q >= 0 && (bs < 0 || bs > q)) { val = line.slice(j, q); j = q; } else {
          val = '';
          while (j < line.length && line[j] !== '"') {
            if (line[j] === '\\' && j + 1 < line.length) { const c = line[j + 1]; val += c === 'n' ? '\n' : c; j += 2; } else val += line[j++];
          }
        }
        labels[key] = val;
        i = j + 1;
        if (line[i] === ',') i++;
      }
      i++;
    }
    const rest = line.slice(i).trim().split(/\s+/)[0] ?? '';
    const value = rest === '+Inf' ? Infinity : Number(rest);
    if (rest === '' || Number.isNaN(value)) continue;
    out.push({ name, labels, value });
  }
  return out;
}

function keyOf(l: Record<string, string>): FlowKey | undefined {
  if (l['reporter'] !== 'source') return undefined;
  const dstService = l['destination_service'];
  if (!dstService) return undefined;
  return {
    srcWorkload: l['source_workload'] || 'unknown', srcCluster: l['source_cluster'] || 'unknown', srcRegion: l['source_region'] || 'unknown',
    dstService, dstCluster: l['destination_cluster'] || 'unknown', dstRegion: l['destination_region'] || 'unknown',
  };
}

/** Sums one proxy's samples per flow (over response codes); 5xx responses count as errors. */
export function proxyTotals(samples: readonly Sample[]): ProxyTotals {
  const flows = new Map<string, FlowCounts>();
  const ejections = new Map<string, number>();
  const flow = (k: FlowKey): FlowCounts => {
    const id = flowId(k);
    let f = flows.get(id);
    if (!f) flows.set(id, (f = { key: k, requests: 0, errors: 0, buckets: DURATION_BUCKETS.map(() => 0) }));
    return f;
  };
  for (const s of samples) {
    if (s.name === EJECTIONS) {
      const svc = s.labels['service'] ?? '';
      ejections.set(svc, (ejections.get(svc) ?? 0) + s.value);
      continue;
    }
    if (s.name !== REQUESTS && s.name !== BUCKET) continue;
    const k = keyOf(s.labels);
    if (!k) continue;
    const f = flow(k);
    if (s.name === REQUESTS) {
      f.requests += s.value;
      if (Number(s.labels['response_code']) >= 500) f.errors += s.value;
    } else {
      const le = s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']);
      const i = DURATION_BUCKETS.indexOf(le as (typeof DURATION_BUCKETS)[number]);
      if (i >= 0) f.buckets[i]! += s.value;
    }
  }
  return { flows, ejections };
}

/** What happened between two scrapes of one proxy. A counter that went down means the proxy restarted: all of it is new. */
export function totalsDelta(prev: ProxyTotals | undefined, next: ProxyTotals): ProxyTotals {
  if (!prev) return { flows: new Map(), ejections: new Map() }; // first sight of a proxy: a baseline, not a burst
  const d = (a: number | undefined, b: number): number => (a === undefined ? b : b >= a ? b - a : b);
  const flows = new Map<string, FlowCounts>();
  for (const [id, f] of next.flows) {
    const p = prev.flows.get(id);
    const reset = p !== undefined && f.requests < p.requests;
    const delta: FlowCounts = {
      key: f.key,
      requests: reset ? f.requests : d(p?.requests, f.requests),
      errors: reset ? f.errors : d(p?.errors, f.errors),
      buckets: f.buckets.map((b, i) => (reset ? b : d(p?.buckets[i], b))),
    };
    if (delta.requests > 0) flows.set(id, delta);
  }
  const ejections = new Map<string, number>();
  for (const [svc, n] of next.ejections) {
    const x = d(prev.ejections.get(svc), n);
    if (x > 0) ejections.set(svc, x);
  }
  return { flows, ejections };
}

/** Adds `b` into `a` (both per flowId). */
export function addFlows(a: Map<string, FlowCounts>, b: ReadonlyMap<string, FlowCounts>): Map<string, FlowCounts> {
  for (const [id, f] of b) {
    const x = a.get(id);
    if (!x) a.set(id, { key: f.key, requests: f.requests, errors: f.errors, buckets: [...f.buckets] });
    else {
      x.requests += f.requests;
      x.errors += f.errors;
      f.buckets.forEach((v, i) => { x.buckets[i]! += v; });
    }
  }
  return a;
}

/** Prometheus' histogram_quantile over cumulative bucket counts (linear inside a bucket; the +Inf bucket answers its lower bound). */
export function histogramQuantile(q: number, cumulative: readonly number[], bounds: readonly number[] = DURATION_BUCKETS): number | undefined {
  const total = cumulative[cumulative.length - 1] ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    if (cumulative[i]! >= rank) {
      const hi = bounds[i]!;
      const lo = i === 0 ? 0 : bounds[i - 1]!;
      if (hi === Infinity) return lo;
      const below = i === 0 ? 0 : cumulative[i - 1]!;
      const inBucket = cumulative[i]! - below;
      return inBucket <= 0 ? hi : lo + (hi - lo) * ((rank - below) / inBucket);
    }
  }
  return bounds[bounds.length - 2];
}

/** Figures of one flow, or of several flows added up, over a window. */
export interface Rates {
  /** requests per second */
  rps: number;
  /** 5xx responses per second */
  errorRps: number;
  /** share of 5xx responses, 0..1 */
  errorShare: number;
  /** 99th percentile of the duration until the response headers, ms (undefined without requests) */
  p99Ms?: number;
}

export function ratesOf(c: Pick<FlowCounts, 'requests' | 'errors' | 'buckets'>, seconds: number): Rates {
  const s = seconds > 0 ? seconds : 1;
  const p99 = histogramQuantile(0.99, c.buckets);
  return { rps: c.requests / s, errorRps: c.errors / s, errorShare: c.requests > 0 ? c.errors / c.requests : 0, ...(p99 !== undefined ? { p99Ms: p99 } : {}) };
}

/** One collection cycle: the flows' increments over `seconds`, and ejections seen per service label. */
export interface Tick {
  at: number;
  seconds: number;
  flows: ReadonlyMap<string, FlowCounts>;
  ejections: ReadonlyMap<string, number>;
}

/** The ticks of the last `windowMs` (newest last) added up: per flow counts and the seconds they span. */
export function windowFlows(ticks: readonly Tick[], now: number, windowMs: number): { flows: Map<string, FlowCounts>; seconds: number } {
  const flows = new Map<string, FlowCounts>();
  let seconds = 0;
  for (const t of ticks) {
    if (t.at < now - windowMs) continue;
    seconds += t.seconds;
    addFlows(flows, t.flows);
  }
  return { flows, seconds };
}
