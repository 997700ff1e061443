// Optional signing pool: CSR verification and leaf signing (about 60% of a certificate's server CPU) on worker
// threads, so the gRPC/TLS thread and the signers use different cores. Requests are batched per event-loop turn.
import { Worker } from 'node:worker_threads';
import * as grpc from '@grpc/grpc-js';
import type { Signer } from './signer.ts';
import type { IssueOutcome, IssueRequest } from './issue.ts';
import type { WorkerDone, WorkerInit, WorkerJob } from './poolWorker.ts';

// the build bundles the worker as dist/js/caWorker.js beside this code; the sources boot it through tsx
const BOOT = import.meta.url.endsWith('.ts') ? new URL('./poolBoot.mjs', import.meta.url) : new URL('./caWorker.js', import.meta.url);

interface Slot { worker?: Worker; queued: WorkerJob[]; inFlight: Map<number, (o: IssueOutcome) => void>; scheduled: boolean }

export class SigningPool {
  private slots: Slot[];
  private nextId = 1;
  private rr = 0;
  private closed = false;

  constructor(private signer: Signer, readonly size = 1) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`signing pool size must be a positive integer, got ${size}`);
    this.slots = Array.from({ length: size }, () => ({ queued: [], inFlight: new Map(), scheduled: false }));
  }

  /** Boots the workers now (a worker's first start compiles the TypeScript modules: ~0.5 s of CPU). */
  start(): void {
    if (!this.closed) for (const s of this.slots) this.workerOf(s);
  }

  /** Same answer as issueForCaller(signer, r) in this thread; the leaf PEM only. */
  issue(r: IssueRequest): Promise<IssueOutcome> {
    if (this.closed) return Promise.resolve(internal('signing pool is closed'));
    // least loaded slot (round-robin among equals)
    let best = this.slots[this.rr++ % this.size];
    for (const s of this.slots) if (s.inFlight.size < best.inFlight.size) best = s;
    const slot = best;
    const id = this.nextId++;
    return new Promise<IssueOutcome>((resolve) => {
      if (slot.inFlight.size === 0) slot.worker?.ref();
      slot.inFlight.set(id, resolve);
      slot.queued.push({ id, req: r });
      if (!slot.scheduled) { slot.scheduled = true; setImmediate(() => this.flush(slot)); }
    });
  }

  private flush(slot: Slot): void {
    slot.scheduled = false;
    if (!slot.queued.length) return;
    const jobs = slot.queued;
    slot.queued = [];
    try {
      this.workerOf(slot).postMessage(jobs);
    } catch (e) {
      for (const j of jobs) this.settle(slot, j.id, internal(`signing worker unavailable: ${(e as Error).message}`));
    }
  }

  private workerOf(slot: Slot): Worker {
    if (slot.worker) return slot.worker;
    const init: WorkerInit = { material: this.signer.material, maxValiditySeconds: this.signer.maxValiditySeconds };
    const w = new Worker(BOOT, { workerData: init });
    if (slot.inFlight.size === 0) w.unref(); // an idle pool never keeps the process alive (referenced only while requests are in flight)
    w.on('message', (done: WorkerDone[]) => { for (const d of done) this.settle(slot, d.id, d.out); });
    const fail = (why: string): void => {
      if (slot.worker !== w) return;
      slot.worker = undefined; // the next request starts a fresh worker
      slot.queued = [];
      for (const id of [...slot.inFlight.keys()]) this.settle(slot, id, internal(why));
    };
    w.on('error', (e) => fail(`signing worker failed: ${e.message}`));
    w.on('exit', (code) => fail(`signing worker exited (code ${code})`));
    slot.worker = w;
    return w;
  }

  private settle(slot: Slot, id: number, out: IssueOutcome): void {
    const r = slot.inFlight.get(id);
    if (!r) return;
    slot.inFlight.delete(id);
    if (slot.inFlight.size === 0) slot.worker?.unref();
    r(out);
  }

  /** Terminates the workers; requests still in flight get INTERNAL. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map(async (s) => {
      const w = s.worker;
      if (!w) return;
      await w.terminate();
      for (const id of [...s.inFlight.keys()]) this.settle(s, id, internal('signing pool closed'));
    }));
  }
}

function internal(message: string): IssueOutcome {
  return { ok: false, code: grpc.status.INTERNAL, reason: 'internal', message };
}
