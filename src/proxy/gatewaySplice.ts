// Byte splicing for the east-west gateway: the client's connection and the upstream one, both ways, with
// backpressure (a side whose peer's queue is full stops reading until it drains), half-close passed on (a FIN read
// on one side is written to the other once what came before it is), and both closed on the first error.
// Bytes are counted as plain numbers on the per-service stats; the Prometheus counters are updated at scrape time.
import type { Conn } from './conn.ts';
import type { ServiceTraffic } from './gatewayMetrics.ts';

/** Bytes moved either way on one spliced pair: the gateway's idle timeout watches it. */
export interface Activity { bytes: number }

/**
 * Splice `down` (accepted, `first` already read from it: the ClientHello and anything after it; `downEnded` if its
 * FIN was read too) and `up` (connected), `first` going upstream first. Bytes are added to the service's `stats` and
 * the pair's `activity`. `onClose` runs once, when both are closed.
 */
export function splice(down: Conn, up: Conn, first: Buffer, downEnded: boolean, stats: ServiceTraffic, activity: Activity, onClose: () => void): void {
  let open = 2;
  const closed = (other: Conn) => (err?: string): void => {
    // an error on one side ends the other; a side that closed cleanly has passed its FIN on and read the other's
    // (it closes only once both directions are done), so the other finishes by itself once its FIN is written
    if (err !== undefined) other.destroy();
    if (--open === 0) onClose();
  };
  if (down.destroyed) { // the client left while upstream was connecting
    up.destroy();
    onClose();
    return;
  }
  down.on({
    data: (d) => { stats.bytesIn += d.length; activity.bytes += d.length; if (!up.write(d)) down.pause(); },
    end: () => up.end(),
    drain: () => up.resume(),
    close: closed(up),
  });
  up.on({
    data: (d) => { stats.bytesOut += d.length; activity.bytes += d.length; if (!down.write(d)) up.pause(); },
    end: () => down.end(),
    drain: () => down.resume(),
    close: closed(down),
  });
  stats.bytesIn += first.length;
  if (!up.write(first)) down.pause(); else down.resume();
  if (downEnded) up.end();
  up.resume();
}
