// Byte splicing for the east-west gateway, without Node stream pipes.
//
// upstream → downstream (responses, the bulk direction): the upstream socket reads into a buffer the splice owns
// (net.connect's `onread`) instead of a fresh 64 KiB allocation per read, which churned malloc, page faults and GC
// (2.5-6 ms of CPU per MB before). The buffer is reused after each write to the client that completes at once.
// A write that is queued still refers to the buffer: reading then stops until the client's queue drains (write()
// returned false), or, if the queue is still under its high-water mark, goes on into a new buffer.
// downstream → upstream: the accepted socket's 'data' events (Node gives no `onread` for server sockets), with the
// same manual backpressure.
// Bytes are counted as plain numbers on the per-service stats; the Prometheus counters are updated at scrape time.
import net from 'node:net';
import type { ServiceTraffic } from './gatewayMetrics.ts';

/** Size of the upstream read buffer a connection holds. */
export const READ_BUFFER_BYTES = 64 * 1024;

/** What the reader needs of the client socket. */
export type SpliceTarget = Pick<net.Socket, 'write' | 'writableLength' | 'destroyed'>;

/**
 * The upstream half of a splice, created before the upstream socket so that its `onread` can point at it.
 * `attach` starts the splice once the upstream is connected.
 */
export class UpstreamReader {
  private cur: Buffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
  private down: SpliceTarget | undefined;
  private stats: ServiceTraffic | undefined;

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

  private onData(n: number, buf: Buffer): boolean {
    const down = this.down;
    if (!down || down.destroyed) return false; // nothing to splice into (the connection is being torn down)
    this.stats!.bytesOut += n;
    const ok = down.write(buf.subarray(0, n));
    if (down.writableLength === 0) return true; // written to the kernel at once: the buffer is free again
    // The write is queued and still refers to `buf`.
    if (!ok) return false; // stop reading until 'drain': by then the queue is written and `buf` is free again
    this.cur = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES); // under the high-water mark: read on, into a new buffer
    return true;
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
    onClose();
  };
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
