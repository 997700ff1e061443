// Is a cluster's API server still answering? Watches can be silent for minutes on a quiet cluster, and a server that
// accepts connections but never answers (SIGSTOP, a wedged proxy) keeps them open without a byte, like a quiet one.
// The informers watching one server share one Liveness: every answer they get counts as contact, and when nothing
// was heard for `intervalMs` it asks the server for /version (tiny, no etcd; any HTTP answer, even 403, counts).
// No answer within `timeoutMs`: every watch is told, and ends as failed. That bounds a hang's detection at
// intervalMs + timeoutMs after the last answer, and keeps "last contact" within about intervalMs on a healthy,
// idle cluster; it costs one small request per interval per server, and none while events flow.
import type * as k8s from '@kubernetes/client-node';
import { getJson } from './request.ts';

export interface LivenessTiming {
  /** ask when nothing was heard for this long (ms) */
  intervalMs: number;
  /** the answer must arrive within this time (ms) */
  timeoutMs: number;
}

export const DEFAULT_LIVENESS: LivenessTiming = { intervalMs: 2_500, timeoutMs: 5_000 };

export class Liveness {
  readonly timing: LivenessTiming;
  private lastHeard: number | undefined;
  private readonly watchers = new Set<(err: Error) => void>();
  private timer: NodeJS.Timeout | undefined;
  private probing = false;
  private failedLast = false;
  private readonly abort = new AbortController();

  constructor(private readonly kc: k8s.KubeConfig, timing: Partial<LivenessTiming> = {}) {
    this.timing = { ...DEFAULT_LIVENESS, ...timing };
  }

  /** The server answered something (a list, a watch event or bookmark, a probe). */
  heard(at = Date.now()): void {
    if (this.lastHeard === undefined || at > this.lastHeard) this.lastHeard = at;
  }

  /** Epoch ms of the last answer from the server, if any. */
  lastContact(): number | undefined {
    return this.lastHeard;
  }

  /** `onDead` is called when a probe gets no answer; the heartbeat runs while anyone watches. Returns an unsubscribe. */
  watch(onDead: (err: Error) => void): () => void {
    this.watchers.add(onDead);
    this.arm();
    return () => {
      this.watchers.delete(onDead);
      if (this.watchers.size === 0 && this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    };
  }

  /** Stops the heartbeat and aborts a probe in flight. */
  close(): void {
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.watchers.clear();
  }

  private arm(): void {
    if (this.timer || this.probing || this.watchers.size === 0 || this.abort.signal.aborted) return;
    const since = this.failedLast || this.lastHeard === undefined ? 0 : Date.now() - this.lastHeard;
    this.timer = setTimeout(() => { this.timer = undefined; this.tick(); }, Math.max(0, this.timing.intervalMs - since));
    this.timer.unref();
  }

  private tick(): void {
    if (this.watchers.size === 0 || this.abort.signal.aborted) return;
    if (!this.failedLast && this.lastHeard !== undefined && Date.now() - this.lastHeard < this.timing.intervalMs) { this.arm(); return; }
    this.probing = true;
    this.failedLast = false;
    getJson(this.kc, '/version', { timeoutMs: this.timing.timeoutMs, signal: this.abort.signal }).then(
      () => this.heard(),
      (e: unknown) => {
        if (this.abort.signal.aborted) return;
        // an HTTP answer of any kind: the server is there
        if (typeof (e as { code?: unknown }).code === 'number') { this.heard(); return; }
        this.failedLast = true;
        const err = new Error(`no answer from the API server for ${Math.round((Date.now() - (this.lastHeard ?? Date.now())) / 1000)} s: ${(e as Error).message}`);
        for (const w of [...this.watchers]) w(err);
      },
    ).finally(() => { this.probing = false; this.arm(); });
  }
}
