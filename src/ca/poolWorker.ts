// Signing worker: builds the same Signer from the CA material it is given and answers issue requests.
import { parentPort, workerData } from 'node:worker_threads';
import { Signer, type CaMaterial } from './signer.ts';
import { issueForCaller, type IssueOutcome, type IssueRequest } from './issue.ts';

export interface WorkerInit { material: CaMaterial; maxValiditySeconds: number }
/** batches both ways: one message per event-loop turn, not per certificate */
export type WorkerJob = { id: number; req: IssueRequest };
export type WorkerDone = { id: number; out: IssueOutcome };

const init = workerData as WorkerInit;
const signer = new Signer(init.material, init.maxValiditySeconds);
const FLUSH_MS = 1;
parentPort?.on('message', (jobs: WorkerJob[]) => {
  // answer in slices of ~1 ms so the gRPC thread can send responses while the rest of a batch is signed
  let done: WorkerDone[] = [];
  let t0 = performance.now();
  for (const { id, req } of jobs) {
    let out: IssueOutcome;
    try {
      out = issueForCaller(signer, req);
    } catch (e) {
      out = { ok: false, code: 13, reason: 'internal', message: `internal error: ${(e as Error).message}` };
    }
    done.push({ id, out });
    if (performance.now() - t0 >= FLUSH_MS) { parentPort?.postMessage(done); done = []; t0 = performance.now(); }
  }
  if (done.length) parentPort?.postMessage(done);
});
