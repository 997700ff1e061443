// The control plane's leader-election flags (named as kube-controller-manager's), parsed and checked. Pure.
import { checkTiming, DEFAULT_LEASE_NAME, LEADER_ELECTION_DEFAULTS, type LeaderElectionTiming } from './leaderElectionTiming.ts';

export interface LeaderElectionFlags {
  'leader-elect'?: string;
  'leader-elect-lease-duration'?: string;
  'leader-elect-renew-deadline'?: string;
  'leader-elect-retry-period'?: string;
  'leader-elect-resource-namespace'?: string;
  'leader-elect-resource-name'?: string;
  'leader-elect-identity'?: string;
}

export const LEADER_ELECTION_FLAG_HELP: Record<keyof LeaderElectionFlags, { default?: string; help: string }> = {
  'leader-elect': { default: 'true', help: 'true|false  elect one leader among the replicas with a Lease; only the leader writes to clusters (false: this process writes alone — run one replica only)' },
  'leader-elect-lease-duration': { default: '15s', help: 'DURATION  how long followers wait after the last observed renewal before taking over' },
  'leader-elect-renew-deadline': { default: '10s', help: 'DURATION  the leader stops writing when it could not renew for this long (less than the lease duration)' },
  'leader-elect-retry-period': { default: '2s', help: 'DURATION  how often replicas try to acquire or renew the lease' },
  'leader-elect-resource-namespace': { default: 'meshfed-system', help: 'NS  namespace of the Lease (in the control plane\'s own cluster)' },
  'leader-elect-resource-name': { default: DEFAULT_LEASE_NAME, help: 'NAME  name of the Lease' },
  'leader-elect-identity': { help: 'ID  this replica\'s name in the Lease (default: $POD_NAME or the host name, and a random suffix)' },
};

/** Go-style durations: 15s, 500ms, 1m, 1m30s, 1.5s. */
export function parseDuration(flag: string, v: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(v); m; m = re.exec(v)) {
    total += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    end = re.lastIndex;
  }
  if (v === '' || end !== v.length) throw new Error(`--${flag} must be a duration like 15s, 500ms or 1m, got ${JSON.stringify(v)}`);
  return Math.round(total);
}

export type LeaderElectionConfig = false | (LeaderElectionTiming & { namespace: string; name: string; identity?: string });

export function leaderElectionFromFlags(f: LeaderElectionFlags): LeaderElectionConfig {
  const on = f['leader-elect'] ?? 'true';
  if (on !== 'true' && on !== 'false') throw new Error(`--leader-elect must be true or false, got ${JSON.stringify(on)}`);
  const timing: LeaderElectionTiming = {
    leaseDurationMs: f['leader-elect-lease-duration'] ? parseDuration('leader-elect-lease-duration', f['leader-elect-lease-duration']) : LEADER_ELECTION_DEFAULTS.leaseDurationMs,
    renewDeadlineMs: f['leader-elect-renew-deadline'] ? parseDuration('leader-elect-renew-deadline', f['leader-elect-renew-deadline']) : LEADER_ELECTION_DEFAULTS.renewDeadlineMs,
    retryPeriodMs: f['leader-elect-retry-period'] ? parseDuration('leader-elect-retry-period', f['leader-elect-retry-period']) : LEADER_ELECTION_DEFAULTS.retryPeriodMs,
  };
  if (on === 'false') return false;
  const bad = checkTiming(timing);
  if (bad) throw new Error(`${bad} (--leader-elect-lease-duration, --leader-elect-renew-deadline, --leader-elect-retry-period)`);
  const identity = f['leader-elect-identity'];
  return {
    ...timing,
    namespace: f['leader-elect-resource-namespace'] || 'meshfed-system',
    name: f['leader-elect-resource-name'] || DEFAULT_LEASE_NAME,
    ...(identity ? { identity } : {}),
  };
}
