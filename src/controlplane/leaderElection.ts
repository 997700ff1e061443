// Leader election with a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it: acquire (create the
// Lease, or take it over once its holder has not renewed it for leaseDuration as observed on OUR clock), renew
// every retryPeriod, give up when no renewal succeeded within renewDeadline, release on shutdown (holder '' and a
// 1 s duration, so another replica takes over at once). Races between replicas are settled by the apiserver's
// optimistic concurrency: a replace carries the resourceVersion it read, the loser gets 409 Conflict.
//
// Fencing. isLeader() is not a flag the loop clears when it notices a failure: it is computed from a monotonic clock
// on every call, true only until `renewDeadline` after the last successful renewal was SENT. Another replica takes
// over at the earliest `leaseDuration` after it OBSERVED that renewal (which was after it was sent), and
// renewDeadline < leaseDuration, so this replica stops writing at least leaseDuration − renewDeadline before anyone
// else can start. A paused process (SIGSTOP, a long GC, a frozen VM) resumes with its monotonic clock moved on:
// its first write check fails, before any timer or socket of the old world is handled.
import type { Leadership } from '../admin/sources.ts';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { createLogger, type Logger } from '../log.ts';
import { microTime, type Lease, type LeaseLock, type LeaseSpec } from '../kube/leaseClient.ts';
import { checkTiming, LEADER_ELECTION_DEFAULTS, type LeaderElectionTiming } from './leaderElectionTiming.ts';

export { checkTiming, DEFAULT_LEASE_NAME, LEADER_ELECTION_DEFAULTS, type LeaderElectionTiming } from './leaderElectionTiming.ts';

/** A default identity like client-go's: the host (the pod's name in Kubernetes) and a random suffix. */
export function defaultIdentity(): string {
  return `${process.env.POD_NAME || hostname()}_${randomBytes(4).toString('hex')}`;
}

export type Decision =
  | { take: true; spec: LeaseSpec; transition: boolean }
  | { take: false; holder: string; /** monotonic ms when the holder's lease runs out, as observed here */ expiresAt: number };

/**
 * Pure: what to do with the Lease record as read. `observedAt` is when this replica saw the record change (monotonic);
 * the holder's lease runs out `leaseDurationSeconds` after that. Our own record is always renewed.
 */
export function decide(record: LeaseSpec, observedAt: number, now: number, me: string, myLeaseDurationS: number, wallNow: Date): Decision {
  const holder = record.holderIdentity ?? '';
  const expiresAt = observedAt + (record.leaseDurationSeconds ?? myLeaseDurationS) * 1000;
  if (holder !== '' && holder !== me && now < expiresAt) return { take: false, holder, expiresAt };
  const mine = holder === me;
  return {
    take: true,
    transition: !mine,
    spec: {
      holderIdentity: me,
      leaseDurationSeconds: myLeaseDurationS,
      acquireTime: mine && record.acquireTime ? record.acquireTime : microTime(wallNow),
      renewTime: microTime(wallNow),
      leaseTransitions: (record.leaseTransitions ?? 0) + (mine ? 0 : 1),
    },
  };
}

export interface LeaderElectorOptions extends Partial<LeaderElectionTiming> {
  lock: LeaseLock;
  identity: string;
  /** monotonic milliseconds (default performance.now) */
  now?: () => number;
  wallNow?: () => Date;
  onStartedLeading?: () => void;
  onStoppedLeading?: () => void;
  /** the holder changed (undefined: nobody holds it) */
  onNewLeader?: (identity: string | undefined) => void;
  log?: Logger;
}

/** what /debug/leader shows: the admin server's Leadership shape */
export type LeadershipStatus = Leadership;

export class LeaderElector {
  readonly identity: string;
  private readonly t: LeaderElectionTiming;
  private readonly now: () => number;
  private readonly wallNow: () => Date;
  private readonly log: Logger;
  private observed?: { raw: string; at: number };
  private lease?: Lease;
  /** monotonic ms until which this replica may write; 0 when not leading */
  private validUntil = 0;
  private leading = false;
  private leadingSince?: Date;
  private holder = '';
  private transitions = 0;
  private stopped = true;
  private wake?: () => void;
  private timer?: NodeJS.Timeout;
  private loop?: Promise<void>;
  private refused = 0;
  private firstDone: () => void = () => {};
  private first: Promise<void> = new Promise<void>((r) => { this.firstDone = r; });

  constructor(private readonly o: LeaderElectorOptions) {
    this.identity = o.identity;
    this.t = {
      leaseDurationMs: o.leaseDurationMs ?? LEADER_ELECTION_DEFAULTS.leaseDurationMs,
      renewDeadlineMs: o.renewDeadlineMs ?? LEADER_ELECTION_DEFAULTS.renewDeadlineMs,
      retryPeriodMs: o.retryPeriodMs ?? LEADER_ELECTION_DEFAULTS.retryPeriodMs,
    };
    const bad = checkTiming(this.t);
    if (bad) throw new Error(`leader election: ${bad}`);
    this.now = o.now ?? (() => performance.now());
    this.wallNow = o.wallNow ?? (() => new Date());
    this.log = o.log ?? createLogger('leader-election');
  }

  /** May this replica write now? Checked right before every write to a cluster (see the fencing note above). */
  isLeader(): boolean {
    return !this.stopped && this.now() < this.validUntil;
  }

  /** isLeader(), counting refusals (meshfed_leader_fenced_writes_total). */
  mayWrite(): boolean {
    if (this.isLeader()) return true;
    this.refused++;
    return false;
  }

  /** writes refused by the fence since start */
  fencedWrites(): number { return this.refused; }

  status(): LeadershipStatus {
    const leading = this.isLeader();
    return {
      identity: this.identity, lease: this.o.lock.description, leading, leader: this.holder,
      ...(leading && this.leadingSince ? { leadingSince: this.leadingSince.toISOString() } : {}),
      leaseDurationSeconds: this.t.leaseDurationMs / 1000, renewDeadlineSeconds: this.t.renewDeadlineMs / 1000, retryPeriodSeconds: this.t.retryPeriodMs / 1000,
      transitions: this.transitions,
    };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  /** Resolves once the first attempt to acquire or renew since start() has finished (won, lost or failed). */
  firstAttempt(): Promise<void> {
    return this.first;
  }

  /**
   * Stop writing at once, end the loop and, if this replica held the Lease, release it (best effort).
   * releaseLease false: leave the Lease as it is, as a crashed replica does (another takes over when it expires).
   */
  async stop(o: { releaseLease?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    const held = this.now() < this.validUntil && o.releaseLease !== false;
    this.stopped = true;
    this.wake?.();
    await this.loop;
    this.firstDone();
    this.setLeading(false);
    if (held && this.lease) {
      try {
        const wall = this.wallNow();
        const spec: LeaseSpec = { ...this.lease.spec, holderIdentity: '', leaseDurationSeconds: 1, acquireTime: microTime(wall), renewTime: microTime(wall) };
        await this.o.lock.update({ ...this.lease, spec }, this.t.renewDeadlineMs);
        this.log.info({ lease: this.o.lock.description, identity: this.identity }, 'released the leader lease');
      } catch (e) {
        this.log.warn({ lease: this.o.lock.description, err: (e as Error).message }, 'could not release the leader lease; another replica takes over when it expires');
      }
    }
    this.validUntil = 0;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let delay = this.t.retryPeriodMs;
      try {
        delay = await this.tryAcquireOrRenew();
      } catch (e) {
        this.log.warn({ lease: this.o.lock.description, err: (e as Error).message }, this.leading ? 'renewing the leader lease failed' : 'leader election: reading or writing the lease failed; retrying');
      }
      this.firstDone();
      // a leader that could not renew within the renew deadline has already stopped writing (isLeader is computed
      // from the clock); say so, and compete again like any other replica
      if (this.leading && !this.isLeader()) this.setLeading(false);
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, Math.max(1, delay));
      });
      clearTimeout(this.timer);
      this.wake = undefined;
    }
  }

  /** One attempt; returns how long to wait before the next. */
  private async tryAcquireOrRenew(): Promise<number> {
    const sentAt = this.now();
    const wall = this.wallNow();
    // bounded by the time left to renew while leading, by the renew deadline otherwise
    const timeout = this.leading ? Math.max(1, this.validUntil - sentAt) : this.t.renewDeadlineMs;
    const leaseS = this.t.leaseDurationMs / 1000;
    const cur = await this.o.lock.get(timeout);
    if (this.stopped) return 0;
    if (!cur) {
      const spec: LeaseSpec = { holderIdentity: this.identity, leaseDurationSeconds: leaseS, acquireTime: microTime(wall), renewTime: microTime(wall), leaseTransitions: 0 };
      try {
        this.accept(await this.o.lock.create(spec, timeout), sentAt, true);
      } catch (e) {
        if ((e as { code?: number }).code !== 409) throw e;
        return this.t.retryPeriodMs; // another replica created it first
      }
      return this.t.retryPeriodMs;
    }
    const record = cur.spec ?? {};
    const raw = JSON.stringify(record);
    if (this.observed?.raw !== raw) {
      this.observed = { raw, at: this.now() };
      this.transitions = record.leaseTransitions ?? 0;
      this.setHolder(record.holderIdentity ?? '');
    }
    const d = decide(record, this.observed.at, this.now(), this.identity, leaseS, wall);
    if (!d.take) {
      // lost it (another replica renewed or took over): stop at once, even if our deadline has not passed
      if (this.leading) { this.validUntil = 0; this.setLeading(false); }
      // try again when its lease runs out, if that is sooner than the retry period (takeover within leaseDuration
      // of the last observed renewal, not up to a retry period later)
      return Math.min(this.t.retryPeriodMs, Math.max(1, d.expiresAt - this.now() + 1));
    }
    try {
      this.accept(await this.o.lock.update({ ...cur, spec: d.spec }, timeout), sentAt, d.transition);
    } catch (e) {
      if ((e as { code?: number }).code === 409) {
        // another replica wrote the Lease since we read it: it renewed or took over first
        if (this.leading) { this.validUntil = 0; this.setLeading(false); }
        return this.t.retryPeriodMs;
      }
      throw e;
    }
    return this.t.retryPeriodMs;
  }

  private accept(lease: Lease, sentAt: number, transition: boolean): void {
    if (this.stopped) return;
    this.lease = lease;
    const spec = lease.spec ?? {};
    this.observed = { raw: JSON.stringify(spec), at: this.now() };
    this.transitions = spec.leaseTransitions ?? 0;
    this.validUntil = sentAt + this.t.renewDeadlineMs;
    this.setHolder(this.identity);
    if (!(this.now() < this.validUntil)) return; // the answer came too late to count
    if (!this.leading) {
      this.log.info({ lease: this.o.lock.description, identity: this.identity, transition }, 'became the leader: replication, status and trust-bundle writes are on');
      this.setLeading(true);
    }
  }

  private setHolder(h: string): void {
    if (h === this.holder) return;
    this.holder = h;
    if (h !== this.identity) this.log.info({ lease: this.o.lock.description, leader: h || '(released)' }, 'leader changed');
    this.o.onNewLeader?.(h || undefined);
  }

  private setLeading(on: boolean): void {
    if (on === this.leading) return;
    this.leading = on;
    if (on) {
      this.leadingSince = this.wallNow();
      this.o.onStartedLeading?.();
    } else {
      this.leadingSince = undefined;
      if (!this.stopped) this.log.warn({ lease: this.o.lock.description, identity: this.identity }, 'lost the leader lease: writes to clusters stop');
      this.o.onStoppedLeading?.();
    }
  }
}
