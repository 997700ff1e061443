// One informer lifecycle for every watch meshfed keeps (member clusters, traffic policy, registration Secrets):
// list, then watch from the list's resourceVersion (timeoutSeconds, allowWatchBookmarks); re-watch from the last
// resourceVersion when the server ends a watch; relist on 410 Gone; restart failed attempts with p-retry's
// exponential backoff and jitter; report health (synced, last contact, error); stop cleanly (aborts what is in flight).
//
// A server that accepts connections but never answers (SIGSTOP, a wedged proxy) is noticed: lists and a watch's
// headers have deadlines, and an open watch listens to the server's Liveness (shared by the informers of one server),
// which asks the server when nothing was heard for a while and ends the watches when it gets no answer. Worst case
// from the server's last answer to "failed": liveness interval + timeout (2.5 s + 5 s by default; client-go's
// HTTP/2 health check takes 30 s + 15 s). A watch also ends client-side shortly after the timeoutSeconds it asked
// for, so a half-open socket cannot hold it forever.
import type * as k8s from '@kubernetes/client-node';
import pRetry from 'p-retry';
import { Liveness, type LivenessTiming } from './liveness.ts';
import { getJson, KubeRequestError, openGet } from './request.ts';
import { classifyWatchError } from './watchError.ts';

export interface InformerTiming {
  /** a whole list (headers and body) */
  listTimeoutMs: number;
  /** the headers of a watch */
  requestTimeoutMs: number;
  /** each watch asks the server to end it after a random time in this range (seconds), as client-go does */
  watchTimeoutSeconds: readonly [number, number];
  /** p-retry backoff between failed attempts (randomized ×1–2, capped at maxRetryMs) */
  minRetryMs: number;
  maxRetryMs: number;
}

export const DEFAULT_TIMING: InformerTiming = {
  listTimeoutMs: 30_000,
  requestTimeoutMs: 5_000,
  watchTimeoutSeconds: [300, 600],
  minRetryMs: 250,
  maxRetryMs: 5_000,
};

/** Timing of a watcher's informers and of its API server's liveness heartbeat; anything left out takes its default. */
export type WatchTiming = Partial<InformerTiming> & { liveness?: Partial<LivenessTiming> };

export interface InformerFailure {
  state: 'unreachable' | 'error';
  reason: string;
  /** HTTP status, when the server answered */
  status?: number;
}

export interface InformerHealth {
  /** the cache holds what the server has, and a watch is open */
  synced: boolean;
  /** synced at least once */
  everSynced: boolean;
  /** epoch ms of the last answer this informer got: a list, a watch's headers, a watch event or bookmark */
  lastContact?: number;
  /** the last failure, while not synced */
  error?: InformerFailure;
  /** failed attempts since the last sync */
  failures: number;
}

export type InformerEvent = 'synced' | 'failed';
type ObjectHandler<T> = (obj: T) => void;

export interface InformerOptions {
  kubeConfig: k8s.KubeConfig;
  /** collection path, e.g. /api/v1/pods or /api/v1/namespaces/meshfed-system/secrets */
  path: string;
  labelSelector?: string;
  timing?: WatchTiming;
  /** shared by the informers of one API server (its owner closes it); default: one of its own */
  liveness?: Liveness;
}

interface WatchEvent { type?: string; object?: k8s.KubernetesObject & { code?: number; message?: string } }
interface List { metadata?: { resourceVersion?: string }; items?: k8s.KubernetesObject[] }

/** A watch attempt that ended: `progress` when it had been open (the next attempt starts without backoff). */
class Ended extends Error {
  constructor(readonly failure: unknown, readonly progress: boolean) { super((failure as Error)?.message ?? String(failure)); }
}

const keyOf = (o: k8s.KubernetesObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

export class Informer<T extends k8s.KubernetesObject = k8s.KubernetesObject> {
  readonly timing: InformerTiming;
  private readonly objects = new Map<string, T>();
  private readonly handlers = { add: [] as ObjectHandler<T>[], update: [] as ObjectHandler<T>[], delete: [] as ObjectHandler<T>[] };
  private readonly healthHandlers: ((e: InformerEvent, h: InformerHealth) => void)[] = [];
  private abort = new AbortController();
  private resourceVersion = '';
  private state: InformerHealth = { synced: false, everSynced: false, failures: 0 };
  private loop?: Promise<void>;
  private firstAttempt?: () => void;
  private readonly liveness: Liveness;

  constructor(private readonly o: InformerOptions) {
    const { liveness, ...timing } = o.timing ?? {};
    this.timing = { ...DEFAULT_TIMING, ...timing };
    this.liveness = o.liveness ?? new Liveness(o.kubeConfig, liveness);
  }

  on(event: 'add' | 'update' | 'delete', fn: ObjectHandler<T>): void {
    this.handlers[event].push(fn);
  }

  /** Called on every sync (after a list or a re-opened watch that had failed) and every failed attempt. */
  onHealth(fn: (e: InformerEvent, h: InformerHealth) => void): void {
    this.healthHandlers.push(fn);
  }

  health(): InformerHealth { return { ...this.state }; }

  list(): T[] { return [...this.objects.values()]; }

  get(namespace: string, name: string): T | undefined { return this.objects.get(`${namespace}/${name}`); }

  /** Starts the loop; resolves after the first attempt synced or failed (it keeps retrying then). */
  start(): Promise<void> {
    if (this.loop) return Promise.resolve();
    if (this.abort.signal.aborted) this.abort = new AbortController();
    const first = new Promise<void>((r) => { this.firstAttempt = r; });
    this.loop = this.run();
    return first;
  }

  /** Aborts what is in flight and waits for the loop to end; the cache keeps its objects. */
  async stop(): Promise<void> {
    this.abort.abort();
    this.firstAttempt?.();
    await this.loop;
    this.loop = undefined;
    if (!this.o.liveness) this.liveness.close();
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    const t = this.timing;
    while (!signal.aborted) {
      try {
        // one p-retry per run of failures: its backoff starts over once a watch has been open
        await pRetry(() => this.attempt(signal), {
          retries: Number.POSITIVE_INFINITY, factor: 2, minTimeout: t.minRetryMs, maxTimeout: t.maxRetryMs, randomize: true, signal, unref: true,
          shouldRetry: () => !signal.aborted,
        });
      } catch (e) {
        if (signal.aborted) break;
        // not retried by p-retry (a TypeError from a bug): report it, pause, go on
        this.failed(e);
        await new Promise<void>((r) => {
          const timer = setTimeout(r, t.maxRetryMs);
          signal.addEventListener('abort', () => { clearTimeout(timer); r(); }, { once: true });
        });
      }
    }
  }

  /** List (when there is no resourceVersion to resume from), then watch until the watch ends. Resolves when the
   *  watch ended after being open (the server's timeout, a 410, or a failure then reported); rejects otherwise. */
  private async attempt(signal: AbortSignal): Promise<void> {
    try {
      if (!this.resourceVersion) await this.relist(signal);
      await this.watch(signal);
    } catch (e) {
      if (signal.aborted) throw e;
      if (e instanceof Ended) {
        this.failed(e.failure);
        if (e.progress) return;
        throw e.failure instanceof Error ? e.failure : new Error(String(e.failure));
      }
      this.failed(e);
      throw e;
    }
  }

  private async relist(signal: AbortSignal): Promise<void> {
    const list = await getJson<List>(this.o.kubeConfig, this.o.path, { query: { labelSelector: this.o.labelSelector }, timeoutMs: this.timing.listTimeoutMs, signal });
    this.contact();
    const items = (list.items ?? []) as T[];
    const seen = new Set<string>();
    for (const obj of items) { seen.add(keyOf(obj)); this.upsert(obj); }
    for (const [k, old] of this.objects) {
      if (seen.has(k)) continue;
      this.objects.delete(k);
      for (const h of this.handlers.delete) h(old);
    }
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
  }

  /** One watch from this.resourceVersion. Resolves when the server ends it or answers 410 (then relists next). */
  private async watch(signal: AbortSignal): Promise<void> {
    const t = this.timing;
    const [lo, hi] = t.watchTimeoutSeconds;
    const timeoutSeconds = Math.round(lo + Math.random() * (hi - lo));
    const res = await openGet(this.o.kubeConfig, this.o.path, {
      query: { watch: 'true', resourceVersion: this.resourceVersion, allowWatchBookmarks: 'true', timeoutSeconds, labelSelector: this.o.labelSelector },
      timeoutMs: t.requestTimeoutMs, signal,
    });
    this.contact();
    this.synced();
    const opened = Date.now();
    // a watch that ends (or fails) right after it opened must not make a tight loop: back off as after a failure
    const brief = (): boolean => Date.now() - opened < 1000;
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      let buf = '';
      const finish = (err: unknown): void => {
        if (settled) return;
        settled = true;
        unwatch();
        clearTimeout(deadline);
        if (!res.destroyed) res.destroy();
        if (err !== undefined) reject(new Ended(err, !brief()));
        else if (brief() && !signal.aborted) setTimeout(resolve, t.minRetryMs).unref();
        else resolve();
      };
      // the server stopped answering (its liveness probe got nothing): this watch is as dead as it is quiet
      const unwatch = this.liveness.watch((err) => finish(err));
      // the server ends the watch at timeoutSeconds; a socket that died silently is ended here a little later
      const deadline = setTimeout(() => finish(new KubeRequestError(`the watch was not ended by the server ${timeoutSeconds} s after it asked`)), timeoutSeconds * 1000 + t.requestTimeoutMs);
      deadline.unref();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (settled) return;
        this.contact();
        buf += chunk;
        let nl: number;
        while (!settled && (nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          let e: WatchEvent;
          try { e = JSON.parse(line) as WatchEvent; } catch { continue; }
          const gone = this.apply(e);
          if (gone) finish(gone === 'gone' ? undefined : gone);
        }
      });
      res.on('end', () => finish(undefined));
      res.on('error', (e) => finish(signal.aborted ? undefined : e));
      res.on('close', () => finish(signal.aborted ? undefined : new KubeRequestError('the API server closed the watch', 'ECONNRESET')));
    });
  }

  /** Applies one watch event. 'gone': relist; an Error: the watch failed. */
  private apply(e: WatchEvent): 'gone' | Error | undefined {
    const obj = e.object;
    if (!obj) return undefined;
    switch (e.type) {
      case 'ADDED':
      case 'MODIFIED':
        this.upsert(obj as T);
        break;
      case 'DELETED': {
        const k = keyOf(obj);
        const old = this.objects.get(k);
        if (old) {
          this.objects.delete(k);
          for (const h of this.handlers.delete) h(obj as T);
        }
        break;
      }
      case 'BOOKMARK':
        break;
      case 'ERROR':
        if (obj.code === 410) { this.resourceVersion = ''; return 'gone'; }
        return new KubeRequestError(`watch error: ${obj.message ?? JSON.stringify(obj)}`, typeof obj.code === 'number' ? obj.code : undefined, JSON.stringify(obj));
      default:
        return undefined;
    }
    const rv = obj.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    return undefined;
  }

  private upsert(obj: T): void {
    const k = keyOf(obj);
    const old = this.objects.get(k);
    if (old && old.metadata?.resourceVersion !== undefined && old.metadata.resourceVersion === obj.metadata?.resourceVersion) return;
    this.objects.set(k, obj);
    for (const h of old ? this.handlers.update : this.handlers.add) h(obj);
  }

  private contact(): void {
    const now = Date.now();
    this.state.lastContact = now;
    this.liveness.heard(now);
  }

  private synced(): void {
    const was = this.state.synced;
    this.state = { ...this.state, synced: true, everSynced: true, failures: 0 };
    delete this.state.error;
    this.firstAttempt?.();
    this.firstAttempt = undefined;
    if (!was) this.emit('synced');
  }

  private failed(err: unknown): void {
    if (this.abort.signal.aborted) return;
    const c = classifyWatchError(err);
    const status = typeof (err as { code?: unknown })?.code === 'number' ? (err as { code: number }).code : undefined;
    this.state = { ...this.state, synced: false, failures: this.state.failures + 1, error: { ...c, ...(status !== undefined ? { status } : {}) } };
    this.firstAttempt?.();
    this.firstAttempt = undefined;
    this.emit('failed');
  }

  private emit(e: InformerEvent): void {
    const h = this.health();
    for (const fn of this.healthHandlers) fn(e, h);
  }
}
