// Where a proxy finds the control plane, and how long it waits before trying again: pure decisions for the ADS
// client (xds/adsClient.ts). A proxy names the control plane's Service (one DNS name, which may resolve to several
// replicas) or lists the replicas itself (`host:port,host:port`); when its stream breaks it moves on to the next one.

/** `host:port[,host:port…]` → the addresses, in order. Throws an error naming the bad entry. */
export function parseXdsAddresses(spec: string): string[] {
  const parts = spec.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.every((p) => p === '')) throw new Error('the xDS address is empty: give HOST:PORT, or several as HOST:PORT,HOST:PORT');
  for (const p of parts) {
    const m = /^(\[[^\]]+\]|[^:,\s[\]]+):(\d{1,5})$/.exec(p);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
      throw new Error(`xDS address ${JSON.stringify(p)} in ${JSON.stringify(spec)} is not HOST:PORT (several: HOST:PORT,HOST:PORT)`);
    }
  }
  return parts;
}

export interface Backoff { minMs: number; maxMs: number; factor: number }

/** from 200 ms, doubling, at most 10 s */
export const XDS_BACKOFF: Backoff = { minMs: 200, maxMs: 10_000, factor: 2 };

/**
 * Before the first configuration: at most 1 s. A proxy that has never been configured keeps its pod out of service
 * (a rollout waits on it), so it finds a control plane that comes up within a second; once configured it serves from
 * what it holds and backs off further (XDS_BACKOFF), sparing a recovering control plane.
 */
export const XDS_STARTUP_BACKOFF: Backoff = { minMs: 200, maxMs: 1000, factor: 2 };

/**
 * The wait before reconnect attempt number `failures`. The first after a stream that had been up (0) only spreads
 * the proxies of a dead replica over [0, min) so that they do not all arrive at the next one in the same instant;
 * then exponential from min, capped, spread over [d, 2d) by `random` (0 ≤ random < 1). The count restarts after
 * every stream that was up.
 */
export function reconnectDelay(failures: number, random: number, b: Backoff = XDS_BACKOFF): number {
  if (failures <= 0) return Math.round(random * b.minMs);
  const d = Math.min(b.maxMs, b.minMs * b.factor ** (failures - 1));
  return Math.min(b.maxMs, Math.round(d * (1 + random)));
}
