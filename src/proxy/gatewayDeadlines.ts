// Timeouts for many pending things that share one duration (the gateway's ClientHello and upstream connect
// timeouts): deadlines fall in insertion order, so one timer for the oldest is enough — instead of a Node timer
// created and cleared per connection.

export class Deadlines {
  /** action → deadline (ms); a Map iterates in insertion order, which is deadline order */
  private readonly pending = new Map<() => void, number>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly timeoutMs: number, private readonly now: () => number = Date.now) {}

  /** Run `onExpire` once timeoutMs from now unless `cancel(onExpire)` comes first. */
  add(onExpire: () => void): void {
    this.pending.set(onExpire, this.now() + this.timeoutMs);
    if (this.timer === undefined) this.arm(this.timeoutMs);
  }

  cancel(onExpire: () => void): void {
    this.pending.delete(onExpire); // a timer left armed finds nothing due and re-arms for the next, if any
  }

  get size(): number { return this.pending.size; }

  /** Forget everything pending (on shutdown). */
  clear(): void {
    this.pending.clear();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Run what is due now; returns how many ran. Called by the timer; public for tests with a fake clock. */
  expire(): number {
    this.timer = undefined;
    const now = this.now();
    let ran = 0;
    for (const [onExpire, at] of this.pending) {
      if (at > now) { this.arm(at - now); break; }
      this.pending.delete(onExpire);
      ran++;
      onExpire();
    }
    return ran;
  }

  private arm(ms: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer); // an action may have added (and armed) meanwhile
    this.timer = setTimeout(() => this.expire(), Math.max(1, ms));
    this.timer.unref();
  }
}
