// Byte splicing for the east-west gateway, without Node stream pipes.
//
// upstream → downstream (responses, the bulk direction): the upstream socket reads into a buffer the splice owns
// (net.connect's `onread`) instead of a fresh 64 KiB allocation per read, which churned malloc, page faults and GC
// (2.5-6 ms of CPU per MB before). The buffer is reused after each write to the client that completes at once.
// A write that is queued still refers to the buffer: reading then stops until the client's queue drains (write()
// returned false), or, if the queue is still under its high-water mark, goes on into a new buffer.
// Read buffers come from pools: a connection starts with a small one and moves to a large one once a read fills
// it (bulk transfers), and gives its buffer back when it closes — so short connections allocate nothing.
// downstream → upstream: the accepted socket's 'data' events (Node gives no `onread` for server sockets), with the
// same manual backpressure.
// Bytes are counted as plain numbers on the per-service stats; the Prometheus counters are updated at scrape time.
import net from 'node:net';
import type { ServiceTraffic } from './gatewayMetrics.ts';

/** Read buffer sizes: every connection starts with a small one, a read that fills it moves it to a large one. */
export const SMALL_READ_BYTES = 16 * 1024;
export const LARGE_READ_BYTES = 64 * 1024;

/** Free buffers of one size, kept for reuse up to `max` of them. */
export class BufferPool {
  private readonly free: Buffer[] = [];
  constructor(readonly size: number, private readonly max: number) {}
  take(): Buffer { return this.free.pop() ?? Buffer.allocUnsafeSlow(this.size); }
  /** Only for a buffer nothing refers to any more (no queued write, no socket reading into it). */
  give(b: Buffer): void { if (b.length === this.size && this.free.length < this.max) this.free.push(b); }
  get idle(): number { return this.free.length; }
}

export interface ReadPools { small: BufferPool; large: BufferPool }

/** Pools for one gateway: at most 4 MiB of small and 4 MiB of large buffers kept idle. */
export const newReadPools = (): ReadPools => ({ small: new BufferPool(SMALL_READ_BYTES, 256), large: new BufferPool(LARGE_READ_BYTES, 64) });

/** What the reader needs of the client socket. */
export type SpliceTarget = Pick<net.Socket, 'write' | 'writableLength' | 'destroyed'>;

/**
 * The upstream half of a splice, created before the upstream socket so that its `onread` can point at it.
 * `attach` starts the splice once the upstream is connected; `release` returns the buffer once both sockets are
 * destroyed.
 */
export class UpstreamReader {
  private cur: Buffer;
  private down: SpliceTarget | undefined;
  private stats: ServiceTraffic | undefined;
  private released = false;

  constructor(private readonly pools: ReadPools) {
    this.cur = pools.small.take();
  }

  /** for net.connect({ onread }); returning false from the callback stops reading until `up.resume()` */
  readonly onread = {
    buffer: (): Buffer => this.cur,
    callback: (n: number, buf: Buffer): boolean => this.onData(n, buf),
  };

  /** Start writing what upstream sends to `down`; the caller resumes `up` on down's 'drain'. */
  attach(down: SpliceTarget, stats: ServiceTraffic): void {
    this.down = down;
    this.stats = stats;
  }

  /** Give the buffer back to its pool: only once the upstream socket is destroyed and the client's queue dropped. */
  release(): void {
    if (this.released) return;
    this.released = true;
    (this.cur.length === LARGE_READ_BYTES ? this.pools.large : this.pools.small).give(this.cur);
  }

  private onData(n: number, buf: Buffer): boolean {
    const down = this.down;
    if (!down || down.destroyed || this.released) return false; // nothing to splice into (being torn down)
    this.stats!.bytesOut += n;
    const ok = down.write(buf.subarray(0, n));
    const grow = n === buf.length && buf.length < LARGE_READ_BYTES; // a full small read: more is coming
    if (down.writableLength === 0) { // written to the kernel at once: the buffer is free again
      if (grow) { this.pools.small.give(buf); this.cur = this.pools.large.take(); }
      return true;
    }
    // The write is queued and still refers to `buf`: it cannot go back to the pool.
    if (!ok && !grow) return false; // stop reading until 'drain': by then the queue is written and `buf` is free again
    this.cur = grow ? this.pools.large.take() : Buffer.allocUnsafeSlow(buf.length); // read on, into another buffer
    return ok;
  }
}

/**
 * Splice an accepted client socket and a connected upstream socket both ways, `first` (the ClientHello already
 * read from the client) going upstream first. `onClose` runs once when either side closes or fails; both sockets
 * are then destroyed.
 */
export function splice(down: net.Socket, up: net.Socket, reader: UpstreamReader, first: Buffer, stats: ServiceTraffic, onClose: () => void): void {
  let done = false;
  const finish = (): void => {
    if (done) return;
    done = true;
    down.destroy();
    up.destroy();
    reader.release();
    onClose();
  };
  if (down.destroyed) { finish(); return; } // the client left while upstream was connecting
  reader.attach(down, stats);
  down.on('drain', () => up.resume());
  stats.bytesIn += first.length;
  up.write(first);
  down.on('data', (d: Buffer) => {
    stats.bytesIn += d.length;
    if (!up.write(d) && up.writableLength > 0) down.pause();
  });
  up.on('drain', () => down.resume());
  // a FIN from one side is passed on to the other (as pipe() did); the sockets close once both sides are done
  down.on('end', () => up.end());
  up.on('end', () => down.end());
  up.on('error', finish);
  down.on('error', finish);
  up.on('close', finish);
  down.on('close', finish);
  up.resume(); // flowing mode, so that 'end' is emitted (data itself arrives through onread)
  down.resume();
}
