// Failover figures from a request log (pure): how many requests failed, how long after the failure the first
// request was served by another region, and when traffic settled there.

export interface RequestRecord {
  /** ms (monotonic) when the request was sent */
  sentAt: number;
  /** ms when it finished */
  doneAt: number;
  ok: boolean;
  /** region that answered (undefined when it failed) */
  region?: string;
}

export interface FailoverFigures {
  requests: number;
  failed: number;
  /** ms from the failure to the first request answered by another region (undefined: never) */
  firstRemoteMs?: number;
  /** ms from the failure until every later request was answered remotely (undefined: never settled) */
  steadyMs?: number;
  /** requests answered by each region */
  byRegion: Record<string, number>;
}

export function failoverFigures(log: readonly RequestRecord[], failedAt: number, localRegion: string): FailoverFigures {
  const byRegion: Record<string, number> = {};
  for (const r of log) if (r.region) byRegion[r.region] = (byRegion[r.region] ?? 0) + 1;
  const after = log.filter((r) => r.doneAt >= failedAt).sort((a, b) => a.doneAt - b.doneAt);
  const firstRemote = after.find((r) => r.ok && r.region !== undefined && r.region !== localRegion);
  // steady: the last request that was *not* served remotely after the failure; steady state begins after it
  let lastNonRemote: RequestRecord | undefined;
  for (const r of after) if (!(r.ok && r.region !== localRegion)) lastNonRemote = r;
  const settledFrom = lastNonRemote ? after.find((r) => r.doneAt > lastNonRemote!.doneAt) : after[0];
  return {
    requests: log.length,
    failed: log.filter((r) => !r.ok).length,
    ...(firstRemote ? { firstRemoteMs: firstRemote.doneAt - failedAt } : {}),
    ...(settledFrom && settledFrom.ok && settledFrom.region !== localRegion ? { steadyMs: Math.max(0, settledFrom.doneAt - failedAt) } : {}),
    byRegion,
  };
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}
