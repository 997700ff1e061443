// gRPC's length-prefixed messages: 1 byte compressed-flag, 4 bytes big-endian length, the message.

/** the largest message accepted (grpc-js's default receive limit) */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export function frameMessage(m: Uint8Array): Buffer {
  const f = Buffer.allocUnsafe(5 + m.length);
  f[0] = 0;
  f.writeUInt32BE(m.length, 1);
  f.set(m, 5);
  return f;
}

/** Collects DATA chunks and returns the whole messages they complete. Throws on a compressed or oversized message. */
export class MessageReader {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly maxBytes = MAX_MESSAGE_BYTES) {}

  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Buffer[] = [];
    while (this.buf.length >= 5) {
      if (this.buf[0] !== 0) throw new Error(`compressed message (flag ${this.buf[0]}) but no encoding was offered`);
      const len = this.buf.readUInt32BE(1);
      if (len > this.maxBytes) throw new Error(`message of ${len} bytes exceeds the ${this.maxBytes}-byte limit`);
      if (this.buf.length < 5 + len) break;
      out.push(this.buf.subarray(5, 5 + len));
      this.buf = this.buf.subarray(5 + len);
    }
    return out;
  }
}
