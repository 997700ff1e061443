// A bounded request loop (count and time) that records every request for failoverFigures().
import type { CallResult } from './call.ts';
import type { RequestRecord } from './failoverStats.ts';

export interface LoadOptions {
  /** stop after this many requests… */
  count: number;
  /** …or after this long, whichever comes first */
  maxMs: number;
  /** requests in flight at once */
  concurrency?: number;
  /** pause between a worker's requests */
  pauseMs?: number;
  /** stop early when this returns true (checked before each request) */
  until?: () => boolean;
}

export interface Load {
  records: RequestRecord[];
  done: Promise<RequestRecord[]>;
  stop(): void;
}

export function startLoad(call: () => Promise<CallResult>, o: LoadOptions): Load {
  const records: RequestRecord[] = [];
  const t0 = performance.now();
  let sent = 0;
  let stopped = false;
  const worker = async (): Promise<void> => {
    while (!stopped && sent < o.count && performance.now() - t0 < o.maxMs && !o.until?.()) {
      sent++;
      const sentAt = performance.now();
      const r = await call();
      records.push({ sentAt, doneAt: performance.now(), ok: r.ok, ...(r.ok && r.reply?.region ? { region: r.reply.region } : {}) });
      if (o.pauseMs) await new Promise((res) => setTimeout(res, o.pauseMs));
    }
  };
  const done = Promise.all(Array.from({ length: o.concurrency ?? 1 }, worker)).then(() => records);
  return { records, done, stop: () => { stopped = true; } };
}
