// An API call that must answer in time: the remote cluster may be black-holed (client-node sets no timeout).

/** Resolves like `p`, or rejects with `timedOut()` after `ms` (the timer never outlives the call). */
export function withDeadline<T>(p: Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_r, rej) => { timer = setTimeout(() => rej(timedOut()), ms); });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}
