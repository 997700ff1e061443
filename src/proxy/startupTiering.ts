// V8's optimizing compiler (TurboFan) is ~3.4 MB of the node binary's code, and its pages become resident the first
// time any function gets hot. In a proxy the first hot functions are one-off start-up work: node's module loader
// resolving the bundle's files, building the proto types, decoding the first configuration. So an idle sidecar
// carried TurboFan's pages for code that never runs again. During start-up, functions must run ~15× longer before
// V8 calls them hot; once the proxy is ready and its configuration quiet, V8's default applies again and the request
// path is optimized as usual (the pages come in then, under load, where they pay for themselves). bench/footprint
// has the figures, with and without.
import v8 from 'node:v8';

/** V8's default (node 20, V8 11.3) and the start-up value, in V8's units (bytecode bytes executed) */
export const DEFAULT_INTERRUPT_BUDGET = 67_584;
export const STARTUP_INTERRUPT_BUDGET = 1_000_000;

/** Whether the budget is ours to change: not when the operator set it (node's command line or NODE_OPTIONS). */
export const ownsInterruptBudget = (execArgv: readonly string[], nodeOptions: string): boolean =>
  ![...execArgv, ...nodeOptions.split(/\s+/)].some((a) => /^--interrupt[-_]budget(=|$)/.test(a));

/** Start-up is over once the proxy is ready and no configuration has arrived for `quietMs`. */
export const startupOver = (ready: boolean, lastConfigAt: number, now: number, quietMs: number): boolean => ready && now - lastConfigAt >= quietMs;

/**
 * The start-up phase of one proxy process (V8's flags are the process's): `raise()` as the command starts, before
 * its modules load; `done()` (or `endWhenSettled`) once it serves.
 */
export class StartupTiering {
  private raised = false;

  constructor(private readonly execArgv: readonly string[] = process.execArgv, private readonly nodeOptions = process.env.NODE_OPTIONS ?? '') {}

  raise(): this {
    if (this.raised || !ownsInterruptBudget(this.execArgv, this.nodeOptions)) return this;
    v8.setFlagsFromString(`--interrupt-budget=${STARTUP_INTERRUPT_BUDGET}`);
    this.raised = true;
    return this;
  }

  /** V8's default again (no-op unless raise() raised it). */
  done(): void {
    if (!this.raised) return;
    v8.setFlagsFromString(`--interrupt-budget=${DEFAULT_INTERRUPT_BUDGET}`);
    this.raised = false;
  }

  /**
   * done() once startupOver holds, checked every 200 ms on a timer that never keeps the process alive: the first
   * pushes after readiness (listeners, policies) are start-up work too. Returns a cancel function.
   */
  endWhenSettled(ready: () => boolean, lastConfigAt: () => number, quietMs = 1000): () => void {
    if (!this.raised) return () => {};
    const timer = setInterval(() => {
      if (!startupOver(ready(), lastConfigAt(), Date.now(), quietMs)) return;
      clearInterval(timer);
      this.done();
    }, 200);
    timer.unref();
    return () => clearInterval(timer);
  }
}
