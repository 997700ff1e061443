// Bounded in-memory time series for the dashboard's sparklines: per graph element (edge or service), requests/s
// and 5xx/s of the last `keepMs` (5 minutes), at most `points` points each and at most `maxSeries` series (the
// series updated longest ago is dropped first). Memory: maxSeries × points × 3 numbers — 2,000 × 300 × 24 B ≈ 14 MB.
export interface SeriesPoint { at: number; rps: number; errorRps: number }

interface Ring { at: Float64Array; rps: Float32Array; err: Float32Array; start: number; size: number; touched: number }

export class SeriesStore {
  private readonly rings = new Map<string, Ring>();

  constructor(readonly keepMs = 5 * 60_000, readonly points = 300, readonly maxSeries = 2000) {}

  get size(): number { return this.rings.size; }

  add(id: string, at: number, rps: number, errorRps: number): void {
    let r = this.rings.get(id);
    if (!r) {
      if (this.rings.size >= this.maxSeries) this.evictOldest(Math.max(1, Math.floor(this.maxSeries / 10)));
      r = { at: new Float64Array(this.points), rps: new Float32Array(this.points), err: new Float32Array(this.points), start: 0, size: 0, touched: at };
      this.rings.set(id, r);
    }
    const i = (r.start + r.size) % this.points;
    r.at[i] = at; r.rps[i] = rps; r.err[i] = errorRps;
    if (r.size < this.points) r.size++;
    else r.start = (r.start + 1) % this.points;
    r.touched = at;
  }

  /** Points of the last keepMs, oldest first ([] for an unknown id). */
  get(id: string, now: number): SeriesPoint[] {
    const r = this.rings.get(id);
    if (!r) return [];
    const out: SeriesPoint[] = [];
    for (let k = 0; k < r.size; k++) {
      const i = (r.start + k) % this.points;
      if (r.at[i]! >= now - this.keepMs) out.push({ at: r.at[i]!, rps: r.rps[i]!, errorRps: r.err[i]! });
    }
    return out;
  }

  /** Drops series not updated within keepMs. */
  prune(now: number): void {
    for (const [id, r] of this.rings) if (r.touched < now - this.keepMs) this.rings.delete(id);
  }

  /** Drops the `n` series updated longest ago (a tenth at a time, so a full store does not scan on every add). */
  private evictOldest(n: number): void {
    const byAge = [...this.rings].sort(([, a], [, b]) => a.touched - b.touched).slice(0, n);
    for (const [id] of byAge) this.rings.delete(id);
  }
}
