// When to push: snapshot and policy changes arrive in bursts (one per informer event); pushing each would re-resolve
// and re-send to every stream. Changes are batched: a push runs debounceMs after the last change, and never later
// than maxDelayMs after the first change of the batch. No xDS here; the flush callback does the work.

export interface PushSchedulerOptions {
  /** quiet time after the last change before pushing (default 20 ms) */
  debounceMs?: number;
  /** the longest a change waits, however busy the stream of changes (default 200 ms) */
  maxDelayMs?: number;
}

export class PushScheduler {
  private timer: NodeJS.Timeout | undefined;
  private pendingSince = 0;
  private readonly debounceMs: number;
  private readonly maxDelayMs: number;

  /** `flush(since)`: since = Date.now() of the batch's first change (for the push latency metric). */
  constructor(private readonly flush: (since: number) => void, o: PushSchedulerOptions = {}) {
    this.debounceMs = o.debounceMs ?? 20;
    this.maxDelayMs = o.maxDelayMs ?? 200;
  }

  /** Something changed: push soon. */
  changed(): void {
    const now = Date.now();
    if (!this.pendingSince) this.pendingSince = now;
    if (this.timer) clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(this.debounceMs, this.pendingSince + this.maxDelayMs - now));
    this.timer = setTimeout(() => this.run(), wait);
  }

  /** A batch is waiting. */
  pending(): boolean {
    return this.timer !== undefined;
  }

  /** Drop a waiting batch (on shutdown). */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pendingSince = 0;
  }

  private run(): void {
    const since = this.pendingSince;
    this.timer = undefined;
    this.pendingSince = 0;
    this.flush(since);
  }
}
