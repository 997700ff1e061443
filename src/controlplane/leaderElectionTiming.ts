// Leader-election timing: client-go's defaults and checks. Pure, and light (the CLI loads it to parse flags).
export const LEADER_ELECTION_DEFAULTS = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 } as const;
export const DEFAULT_LEASE_NAME = 'meshfed-control-plane';

export interface LeaderElectionTiming {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/** client-go's checks (leaseDuration > renewDeadline > retryPeriod > 0), as one error naming what to fix. */
export function checkTiming(t: LeaderElectionTiming): string | undefined {
  const s = (ms: number) => `${ms / 1000}s`;
  if (!(t.retryPeriodMs > 0)) return `the retry period must be more than 0, got ${s(t.retryPeriodMs)}`;
  if (!(t.renewDeadlineMs > t.retryPeriodMs)) return `the renew deadline (${s(t.renewDeadlineMs)}) must be longer than the retry period (${s(t.retryPeriodMs)})`;
  if (!(t.leaseDurationMs > t.renewDeadlineMs)) return `the lease duration (${s(t.leaseDurationMs)}) must be longer than the renew deadline (${s(t.renewDeadlineMs)}): a leader that cannot renew must stop writing before another replica may take over`;
  if (t.leaseDurationMs % 1000 !== 0) return `the lease duration must be a whole number of seconds (a Lease stores seconds), got ${s(t.leaseDurationMs)}`;
  return undefined;
}
