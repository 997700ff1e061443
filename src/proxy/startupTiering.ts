// V8's optimizing compiler (TurboFan) is ~3.4 MB of the node binary's code, and its pages become resident the first
// time any function gets hot. In a proxy the first hot functions are one-off start-up work: node's module loader
// resolving the bundle's files, building the proto types, decoding the first configuration. So an idle sidecar
// carried TurboFan's pages for code that never runs again. During start-up, functions must run ~15× longer before
// V8 calls them hot; once the proxy is ready, V8's default applies again and the request path is optimized as usual
// (the pages come in then, under load, where they pay for themselves). bench/footprint has the figures.
import v8 from 'node:v8';

/** V8's default (node 20, V8 11.3) and the start-up value, in V8's units (bytecode bytes executed) */
export const DEFAULT_INTERRUPT_BUDGET = 67_584;
export const STARTUP_INTERRUPT_BUDGET = 1_000_000;

/** Whether the budget is ours to change: not when the operator set it (node's command line or NODE_OPTIONS). */
export const ownsInterruptBudget = (execArgv: readonly string[], nodeOptions: string): boolean =>
  ![...execArgv, ...nodeOptions.split(/\s+/)].some((a) => /^--interrupt[-_]budget(=|$)/.test(a));

let raised = false;

/** Start-up begins: raise the budget (process entry of `meshfed sidecar` and `meshfed gateway`). */
export function raiseForStartup(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): void {
  if (raised || !ownsInterruptBudget(execArgv, nodeOptions)) return;
  v8.setFlagsFromString(`--interrupt-budget=${STARTUP_INTERRUPT_BUDGET}`);
  raised = true;
}

/** The proxy is ready: V8's default again (no-op unless raiseForStartup raised it). */
export function startupDone(): void {
  if (!raised) return;
  v8.setFlagsFromString(`--interrupt-budget=${DEFAULT_INTERRUPT_BUDGET}`);
  raised = false;
}

/** Start-up is over once the proxy is ready and no configuration has arrived for `quietMs`. */
export const startupOver = (ready: boolean, lastConfigAt: number, now: number, quietMs: number): boolean => ready && now - lastConfigAt >= quietMs;

/**
 * Calls startupDone once startupOver holds (checked every 200 ms, on a timer that never keeps the process alive): the
 * first pushes after readiness (listeners, policies) are start-up work too. Returns a cancel function.
 */
export function endStartupWhenSettled(ready: () => boolean, lastConfigAt: () => number, quietMs = 1000): () => void {
  if (!raised) return () => {};
  const timer = setInterval(() => {
    if (!startupOver(ready(), lastConfigAt(), Date.now(), quietMs)) return;
    clearInterval(timer);
    startupDone();
  }, 200);
  timer.unref();
  return () => clearInterval(timer);
}
