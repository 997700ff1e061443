// Byte splicing for the east-west gateway: the client's connection and the upstream one, both ways, with
// backpressure (a side whose peer's queue is full stops reading until it drains), half-close passed on (a FIN read
// on one side is written to the other once what came before it is), and both closed on the first error.
// Bytes are counted as plain numbers on the per-service stats; the Prometheus counters are updated at scrape time.
// Per connection this is three small objects and no closure: at thousands of connections a second, what a connection
// allocates and keeps alive while it lives is what the young-generation GC copies.
import type { Conn, ConnHandlers } from './conn.ts';
import type { ServiceTraffic } from './gatewayMetrics.ts';

/** Bytes moved either way on one spliced pair: the gateway's idle timeout watches it. */
export interface Activity { bytes: number }

/** What a splice reports to: bytes moved (here and on the service's stats), and `spliceClosed()` once, when both sides are closed. */
export interface SpliceOwner extends Activity {
  readonly stats: ServiceTraffic;
  spliceClosed(): void;
}

/** Both sides' shared state: how many are still open. */
class Both {
  open = 2;
  constructor(readonly owner: SpliceOwner) {}
  sideClosed(): void { if (--this.open === 0) this.owner.spliceClosed(); }
}

/** One direction: what `from` reads goes to `to`. */
class Side implements ConnHandlers {
  constructor(private readonly from: Conn, private readonly to: Conn, private readonly both: Both, private readonly inbound: boolean) {}

  data(d: Buffer): void {
    const o = this.both.owner;
    if (this.inbound) o.stats.bytesIn += d.length; else o.stats.bytesOut += d.length;
    o.bytes += d.length;
    if (!this.to.write(d)) this.from.pause();
  }

  end(): void { this.to.end(); }

  /** `from`'s queue drained: its source may read again */
  drain(): void { this.to.resume(); }

  close(err?: string): void {
    // an error on one side ends the other; a side that closed cleanly has passed its FIN on and read the other's
    // (it closes only once both directions are done), so the other finishes by itself once its FIN is written
    if (err !== undefined) this.to.destroy();
    this.both.sideClosed();
  }
}

/**
 * Splice `down` (accepted, `first` already read from it: the ClientHello and anything after it; `downEnded` if its
 * FIN was read too) and `up` (connected), `first` going upstream first. Bytes are counted on `owner`, whose
 * `spliceClosed()` runs once, when both are closed.
 */
export function splice(down: Conn, up: Conn, first: Buffer, downEnded: boolean, owner: SpliceOwner): void {
  if (down.destroyed) { // the client left while upstream was connecting
    up.destroy();
    owner.spliceClosed();
    return;
  }
  const both = new Both(owner);
  down.on(new Side(down, up, both, true));
  up.on(new Side(up, down, both, false));
  owner.stats.bytesIn += first.length;
  if (!up.write(first)) down.pause(); else down.resume();
  if (downEnded) up.end();
  up.resume();
}
