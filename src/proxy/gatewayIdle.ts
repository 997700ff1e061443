// Idle timeout of the gateway's spliced connections (Envoy's tcp_proxy idle_timeout, HAProxy's timeout
// client/server): a pair that moved no byte either way for the timeout is closed, so a peer that vanished without a
// FIN or RST, or that never reads ours, does not hold two sockets forever. The splice bumps a byte counter; a
// periodic sweep compares it with what it saw last, so the data path reads no clock.
import type { Activity } from './gatewaySplice.ts';

/** Envoy's default for tcp_proxy's idle_timeout */
export const DEFAULT_IDLE_TIMEOUT_MS = 60 * 60 * 1000;

export interface Watched extends Activity {
  /** bytes at the last sweep that saw it move */
  seen: number;
  /** when it was last seen moving (or created), ms */
  quietSince: number;
}

/** One sweep at `now`: updates each pair's bookkeeping and returns those quiet for at least `timeoutMs`. */
export function idlePairs<T extends Watched>(pairs: Iterable<T>, now: number, timeoutMs: number): T[] {
  const idle: T[] = [];
  for (const p of pairs) {
    if (p.bytes !== p.seen) { p.seen = p.bytes; p.quietSince = now; }
    else if (now - p.quietSince >= timeoutMs) idle.push(p);
  }
  return idle;
}

/** How often to sweep: a quarter of the timeout (a pair closes between 1× and 1.25× it), within 50 ms–60 s. */
export const sweepEveryMs = (timeoutMs: number): number => Math.max(50, Math.min(60_000, Math.round(timeoutMs / 4)));
