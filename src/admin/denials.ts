// Denied requests for the dashboard's event stream (pure). Sidecars have no channel to the control plane's event bus,
// but the admin already scrapes every proxy's metrics in bounded rounds (collector.ts): a sidecar's
// meshfed_sidecar_authz_requests_total{decision="denied"} rises between two scrapes → "N requests from <principal>
// denied by <policy>" events. Bounded twice: one event per proxy, policy and caller per `perKeyMs` (the requests
// denied meanwhile are added to the next event), and at most `perRound` events per scrape round (the rest wait).
import type { Sample } from './promtext.ts';

export const AUTHZ_METRIC = 'meshfed_sidecar_authz_requests_total';

export interface Denial {
  /** the AuthorizationPolicy `<ns>/<name>`; '' = no ALLOW policy matched */
  policy: string;
  /** the caller's principal (SPIFFE ID without spiffe://); '' = plaintext */
  source: string;
  protocol: string;
  count: number;
}

const keyOf = (d: Pick<Denial, 'policy' | 'source' | 'protocol'>): string => `${d.policy}\n${d.source}\n${d.protocol}`;

/** One proxy's denial counters from its scraped samples, by policy, caller and protocol. */
export function denialTotals(samples: readonly Sample[]): Map<string, Denial> {
  const out = new Map<string, Denial>();
  for (const s of samples) {
    if (s.name !== AUTHZ_METRIC || s.labels['decision'] !== 'denied') continue;
    const d = { policy: s.labels['policy'] ?? '', source: s.labels['source_principal'] ?? '', protocol: s.labels['protocol'] ?? '' };
    const k = keyOf(d);
    out.set(k, { ...d, count: (out.get(k)?.count ?? 0) + s.value });
  }
  return out;
}

/** Denials between two scrapes of one proxy (none at first sight: a baseline; a counter that went down restarted). */
export function denialDelta(prev: ReadonlyMap<string, Denial> | undefined, next: ReadonlyMap<string, Denial>): Denial[] {
  if (!prev) return [];
  const out: Denial[] = [];
  for (const [k, d] of next) {
    const before = prev.get(k)?.count ?? 0;
    const n = d.count >= before ? d.count - before : d.count;
    if (n > 0) out.push({ ...d, count: n });
  }
  return out;
}

export interface DenialEvent extends Denial {
  proxy: string;
  message: string;
}

/** Turns per-round denials into events at a bounded rate; what it holds back is reported, added up, later. */
export class DenialEvents {
  private readonly pending = new Map<string, { proxy: string; d: Denial }>();
  private readonly lastAt = new Map<string, number>();

  constructor(private readonly o: { perKeyMs: number; perRound: number } = { perKeyMs: 10_000, perRound: 20 }) {}

  /** Adds one round's denials (per proxy) and returns the events to publish now. */
  round(now: number, denials: ReadonlyMap<string, readonly Denial[]>): DenialEvent[] {
    for (const [proxy, ds] of denials) {
      for (const d of ds) {
        const k = `${proxy}\n${keyOf(d)}`;
        const p = this.pending.get(k);
        if (p) p.d.count += d.count;
        else this.pending.set(k, { proxy, d: { ...d } });
      }
    }
    const out: DenialEvent[] = [];
    for (const [k, { proxy, d }] of this.pending) {
      if (out.length >= this.o.perRound) break;
      const last = this.lastAt.get(k);
      if (last !== undefined && now - last < this.o.perKeyMs) continue;
      this.pending.delete(k);
      this.lastAt.set(k, now);
      out.push({ ...d, proxy, message: denialMessage(proxy, d) });
    }
    for (const [k, at] of this.lastAt) if (now - at >= this.o.perKeyMs && !this.pending.has(k)) this.lastAt.delete(k);
    return out;
  }
}

export function denialMessage(proxy: string, d: Denial): string {
  const who = d.source ? `from ${d.source}` : 'from a plaintext caller';
  const why = d.policy ? `by AuthorizationPolicy ${d.policy}` : 'because no ALLOW policy matched';
  const what = d.protocol === 'tcp' ? (d.count === 1 ? 'connection' : 'connections') : (d.count === 1 ? 'request' : 'requests');
  return `${proxy}: ${d.count} ${what} ${who} denied ${why}`;
}
