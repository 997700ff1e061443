// Waiting for a condition in tests that watch something converge (federation, control planes): poll, do not sleep.

export type Eventually = <T>(what: string, f: () => Promise<T | undefined> | T | undefined, ms?: number) => Promise<T>;

/**
 * `eventually(what, f, ms = defaultMs)` calls f every 25 ms until it returns something other than undefined or false
 * (a throw counts as "not yet") and returns that; after ms it fails naming `what` and f's last error.
 */
export function eventuallyWithin(defaultMs: number): Eventually {
  return async <T>(what: string, f: () => Promise<T | undefined> | T | undefined, ms = defaultMs): Promise<T> => {
    const deadline = Date.now() + ms;
    let last: unknown;
    for (;;) {
      try { const v = await f(); if (v !== undefined && v !== false) return v; } catch (e) { last = e; }
      if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
}
