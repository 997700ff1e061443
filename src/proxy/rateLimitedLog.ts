// Log at most one line per key per interval, reporting how many were suppressed in between.
import type { Logger } from '../log.ts';

export function rateLimitedWarn(log: Logger, intervalMs = 1000): (key: string, fields: Record<string, unknown>, msg: string) => void {
  const last = new Map<string, { at: number; suppressed: number }>();
  return (key, fields, msg) => {
    const now = Date.now();
    const e = last.get(key);
    if (e && now - e.at < intervalMs) { e.suppressed += 1; return; }
    log.warn({ ...fields, suppressed: e?.suppressed ?? 0 }, msg);
    last.set(key, { at: now, suppressed: 0 });
  };
}
