// Timeouts for many pending things that share one duration (the gateway's ClientHello and upstream connect
// timeouts): deadlines fall in insertion order, so one timer for the oldest is enough — instead of a Node timer
// created and cleared per connection. What is pending is a key (the gateway's connection); one callback, given once,
// handles any that expires, so adding one allocates nothing but the map entry.

export class Deadlines<K> {
  /** key → deadline (ms); a Map iterates in insertion order, which is deadline order */
  private readonly pending = new Map<K, number>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly timeoutMs: number, private readonly onExpire: (key: K) => void, private readonly now: () => number = Date.now) {}

  /** Call onExpire(key) once timeoutMs from now unless `cancel(key)` comes first (adding a pending key again restarts its wait). */
  add(key: K): void {
    this.pending.delete(key);
    this.pending.set(key, this.now() + this.timeoutMs);
    if (this.timer === undefined) this.arm(this.timeoutMs);
  }

  cancel(key: K): void {
    this.pending.delete(key); // a timer left armed finds nothing due and re-arms for the next, if any
  }

  get size(): number { return this.pending.size; }

  /** Forget everything pending (on shutdown). */
  clear(): void {
    this.pending.clear();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Expire what is due now; returns how many. Called by the timer; public for tests with a fake clock. */
  expire(): number {
    this.timer = undefined;
    const now = this.now();
    let ran = 0;
    for (const [key, at] of this.pending) {
      if (at > now) { this.arm(at - now); break; }
      this.pending.delete(key);
      ran++;
      this.onExpire(key);
    }
    return ran;
  }

  private arm(ms: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer); // an action may have added (and armed) meanwhile
    this.timer = setTimeout(() => this.expire(), Math.max(1, ms));
    this.timer.unref();
  }
}
