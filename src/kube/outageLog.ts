// What a watcher logs while what it watches is down: one line when it goes down (or its failure changes kind), a
// summary at most once a minute while it stays down, and one line with a plain summary when it is back. Retries
// themselves are silent (an outage used to print a WARN line per retry: ~6.6 lines/s across the watchers).
import type { Logger } from '../log.ts';

export interface OutageLine {
  level: 'warn' | 'info';
  msg: string;
  fields: Record<string, unknown>;
}

/** Pure: fed with failed attempts and recoveries (and the time), says which lines to log. */
export class Outage {
  private downSince: number | undefined;
  private lastLine = 0;
  private attempts = 0;
  private state = '';
  private reason = '';

  /** `what` names the watched thing in a sentence ("cluster east-1", "traffic policy in cluster east-1"). */
  constructor(private readonly what: string, private readonly everyMs = 60_000) {}

  get down(): boolean { return this.downSince !== undefined; }

  /** One failed attempt. `state` is the kind of failure ('unreachable', 'error'); a new kind is a new line. */
  failed(state: string, reason: string, now: number): OutageLine | undefined {
    this.attempts++;
    this.reason = reason;
    if (this.downSince === undefined || state !== this.state) {
      const first = this.downSince === undefined;
      this.downSince ??= now;
      this.state = state;
      this.lastLine = now;
      return {
        level: 'warn',
        msg: `${this.what} ${state}: ${reason}; retrying with backoff${first ? ' (quietly: a summary at most once a minute, and a line when it is back)' : ''}`,
        fields: { state, reason },
      };
    }
    if (now - this.lastLine < this.everyMs) return undefined;
    this.lastLine = now;
    return {
      level: 'warn',
      msg: `${this.what} still ${state} after ${duration(now - this.downSince)} (${this.attempts} failed attempts; last: ${reason})`,
      fields: { state, reason, attempts: this.attempts, downSeconds: Math.round((now - this.downSince) / 1000) },
    };
  }

  /** It answers again: the end-of-outage summary (nothing when it was not down). */
  recovered(now: number): OutageLine | undefined {
    if (this.downSince === undefined) return undefined;
    const line: OutageLine = {
      level: 'info',
      msg: `${this.what} is back after ${duration(now - this.downSince)} ${this.state} (${this.attempts} failed attempt${this.attempts === 1 ? '' : 's'}; last: ${this.reason})`,
      fields: { downSeconds: Math.round((now - this.downSince) / 1000), attempts: this.attempts, lastReason: this.reason },
    };
    this.downSince = undefined;
    this.attempts = 0;
    this.state = '';
    this.reason = '';
    return line;
  }
}

export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** An Outage writing to a logger. */
export class OutageLog {
  private readonly outage: Outage;

  constructor(what: string, private readonly log: Logger, private readonly fields: Record<string, unknown> = {}, everyMs?: number, private readonly now: () => number = Date.now) {
    this.outage = new Outage(what, everyMs);
  }

  get down(): boolean { return this.outage.down; }

  failed(state: string, reason: string): void { this.write(this.outage.failed(state, reason, this.now())); }

  recovered(): void { this.write(this.outage.recovered(this.now())); }

  private write(l: OutageLine | undefined): void {
    if (l) this.log[l.level]({ ...this.fields, ...l.fields }, l.msg);
  }
}
