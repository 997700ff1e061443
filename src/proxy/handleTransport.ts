// Connections on libuv TCP handles, Node's own layer under net.Socket (the `tcp_wrap` and `stream_wrap` bindings,
// through process.binding): accept, connect, read, write, FIN and close, with none of net.Socket's stream machinery.
//
// Why: an SNI-routing gateway's work per connection is two sockets opened, a few reads and writes, two closed. With
// net.Socket the gateway cost 0.25–0.27 ms of CPU per connection here; on these handles 0.15–0.17, against HAProxy's
// 0.15–0.16 with 2 threads and 0.15 for a relay on these handles with no logic at all (2026-12-03, 64 concurrent
// clients, bench/gateway's proxy-bound storm). Stream state, event emitters and per-socket timers were the difference.
//
// The bindings are Node internals, not public API: `handleBindings()` checks their shape once and answers why not
// when they are missing or changed, and the gateway then runs on net.Socket (netTransport.ts) and says so.
// What is used is what lib/net.js and lib/internal/stream_base_commons.js do with them (Node 20).
import net from 'node:net';
import { lookup } from 'node:dns';
import { getSystemErrorName } from 'node:util';
import { HIGH_WATER_BYTES, IGNORE, type Conn, type ConnHandlers, type Transport } from './conn.ts';

interface Req { oncomplete: (...args: never[]) => void; [k: string]: unknown }
interface TcpHandle {
  /** must always be a function: node aborts on anything else */
  onread: (this: TcpHandle, ab: ArrayBuffer | undefined) => void;
  /** the connection this handle belongs to, for onread */
  conn?: unknown;
  readonly writeQueueSize: number;
  readStart(): number;
  readStop(): number;
  writeBuffer(req: Req, b: Buffer): number;
  shutdown(req: Req): number;
  close(cb?: () => void): void;
  setNoDelay(on: boolean): number;
  getpeername(out: { address?: string }): number;
  connect(req: Req, address: string, port: number): number;
  connect6(req: Req, address: string, port: number): number;
}
interface Bindings {
  TCP: new (type: number) => TcpHandle;
  SOCKET: number;
  TCPConnectWrap: new () => Req;
  WriteWrap: new () => Req;
  ShutdownWrap: new () => Req;
  state: Int32Array;
  kReadBytesOrError: number;
  kArrayBufferOffset: number;
  kLastWriteWasAsync: number;
}

const UV_EOF = -4095;
const UV_ENOTCONN = -107;

/** The bindings, checked; or why they cannot be used (the caller falls back to net.Socket). */
export function handleBindings(): Bindings | string {
  const binding = (process as unknown as { binding?: (name: string) => Record<string, unknown> }).binding;
  if (typeof binding !== 'function') return 'process.binding is not available in this Node.js';
  try {
    const tcp = binding('tcp_wrap');
    const stream = binding('stream_wrap');
    const constants = tcp.constants as Record<string, unknown> | undefined;
    const b = {
      TCP: tcp.TCP, SOCKET: constants?.SOCKET, TCPConnectWrap: tcp.TCPConnectWrap,
      WriteWrap: stream.WriteWrap, ShutdownWrap: stream.ShutdownWrap, state: stream.streamBaseState,
      kReadBytesOrError: stream.kReadBytesOrError, kArrayBufferOffset: stream.kArrayBufferOffset, kLastWriteWasAsync: stream.kLastWriteWasAsync,
    };
    const classes = ['TCP', 'TCPConnectWrap', 'WriteWrap', 'ShutdownWrap'] as const;
    const numbers = ['SOCKET', 'kReadBytesOrError', 'kArrayBufferOffset', 'kLastWriteWasAsync'] as const;
    const missing = [
      ...classes.filter((k) => typeof b[k] !== 'function'),
      ...numbers.filter((k) => typeof b[k] !== 'number'),
      ...(b.state instanceof Int32Array ? [] : ['streamBaseState']),
    ];
    if (missing.length > 0) return `the tcp_wrap/stream_wrap bindings of Node.js ${process.version} lack ${missing.join(', ')}`;
    return b as unknown as Bindings;
  } catch (e) {
    return `process.binding('tcp_wrap') failed: ${(e as Error).message}`;
  }
}

const errName = (status: number): string => { try { return getSystemErrorName(status); } catch { return `error ${status}`; } };

const ignoreRead = (): void => {};

/** What the bindings call back into: a handle's read and a request's completion find their connection on it. */
function onHandleRead(this: TcpHandle, ab: ArrayBuffer | undefined): void { (this.conn as HandleConn).readDone(ab); }
function onWriteComplete(this: Req, status: number): void { (this.conn as HandleConn).writeDone(status); }
function onShutdownComplete(this: Req, status: number): void { (this.conn as HandleConn).shutdownDone(status); }
function onConnectComplete(this: Req, status: number): void { (this.conn as HandleConn).connectDone(status, this.onConnect as (err?: string) => void); }

/** The bindings, and a write request to reuse: one that served a write the kernel took whole was never handed to libuv. */
interface Shared { readonly b: Bindings; spareWrite: Req | undefined }

class HandleConn implements Conn {
  private h: ConnHandlers = IGNORE;
  private reading = false;
  private readEof = false;
  private finRequested = false;
  private finWritten = false;
  private needDrain = false;
  private closed = false;

  constructor(private readonly s: Shared, private readonly handle: TcpHandle) {
    handle.conn = this;
    handle.onread = onHandleRead;
  }

  get destroyed(): boolean { return this.closed; }
  get writableLength(): number { return this.closed ? 0 : this.handle.writeQueueSize; }
  get remoteAddress(): string | undefined {
    if (this.closed) return undefined;
    const out: { address?: string } = {};
    return this.handle.getpeername(out) === 0 ? out.address : undefined;
  }

  on(h: ConnHandlers): void { this.h = h; }

  pause(): void {
    if (!this.reading) return;
    this.reading = false;
    this.handle.readStop();
  }

  resume(): void {
    if (this.reading || this.readEof || this.closed) return;
    this.reading = true;
    const err = this.handle.readStart();
    if (err) this.fail(err);
  }

  write(data: Buffer): boolean {
    if (this.closed || this.finRequested) return false;
    const { b } = this.s;
    const req = this.s.spareWrite ?? new b.WriteWrap();
    this.s.spareWrite = undefined;
    const err = this.handle.writeBuffer(req, data);
    if (err) { this.fail(err); return false; }
    if (b.state[b.kLastWriteWasAsync]) {
      // the kernel has not taken it all: libuv holds the request until the rest is written (its completion comes
      // from the loop, never from inside writeBuffer), and the buffer must stay alive until then
      req.oncomplete = onWriteComplete;
      req.conn = this;
      req.buffer = data;
    } else this.s.spareWrite = req;
    if (this.handle.writeQueueSize < HIGH_WATER_BYTES) return true;
    this.needDrain = true;
    return false;
  }

  /** a queued write finished (or was cancelled by close) */
  writeDone(status: number): void {
    if (this.closed) return;
    if (status < 0) { this.fail(status); return; }
    if (this.needDrain && this.handle.writeQueueSize < HIGH_WATER_BYTES) {
      this.needDrain = false;
      this.h.drain();
    }
  }

  end(): void {
    if (this.closed || this.finRequested) return;
    // Both directions done once this FIN is out: with nothing queued, close() sends the same FIN (the kernel
    // flushes its send buffer first; the receive side is empty, EOF was read) and saves a shutdown(2) per connection.
    if (this.readEof && this.handle.writeQueueSize === 0) { this.close(undefined); return; }
    this.finRequested = true;
    const req = new this.s.b.ShutdownWrap();
    req.handle = this.handle;
    req.oncomplete = onShutdownComplete;
    req.conn = this;
    const err = this.handle.shutdown(req); // libuv sends the FIN after the queued writes
    if (err === 1 || err === UV_ENOTCONN) this.shutdownDone(0);
    else if (err) this.fail(err);
  }

  shutdownDone(status: number): void {
    if (this.closed) return;
    if (status < 0 && status !== UV_ENOTCONN) { this.fail(status); return; }
    this.finWritten = true;
    if (this.readEof) this.close(undefined);
  }

  destroy(): void { this.close(undefined); }

  /** an outgoing connect finished */
  connectDone(status: number, onConnect: (err?: string) => void): void {
    if (this.closed) return; // timed out or destroyed meanwhile
    if (status < 0) { const e = errName(status); this.close(undefined); onConnect(e); return; }
    this.handle.setNoDelay(true);
    onConnect();
  }

  /** the handle read `ab` (its length and offset are in the shared state), or EOF, or an error */
  readDone(ab: ArrayBuffer | undefined): void {
    const { b } = this.s;
    const n = b.state[b.kReadBytesOrError]!;
    if (n > 0) {
      if (!this.closed) this.h.data(Buffer.from(ab!, b.state[b.kArrayBufferOffset], n));
      return;
    }
    if (n === 0) return;
    if (n !== UV_EOF) { this.fail(n); return; }
    this.readEof = true;
    this.pause();
    this.h.end();
    if (this.finWritten) this.close(undefined);
  }

  fail(status: number): void { this.close(errName(status)); }

  private close(err: string | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.reading = false;
    this.handle.onread = ignoreRead;
    this.handle.close(); // libuv cancels queued writes and a pending connect: their completions find `closed`
    this.h.close(err);
  }
}

/** Connections on libuv handles; `b` from `handleBindings()`. */
export function handleTransport(b: Bindings): Transport {
  const shared: Shared = { b, spareWrite: undefined };
  const dial = (c: HandleConn, handle: TcpHandle, address: string, family: number, port: number, onConnect: (err?: string) => void): void => {
    const req = new b.TCPConnectWrap();
    req.oncomplete = onConnectComplete;
    req.conn = c;
    req.onConnect = onConnect;
    req.address = address;
    req.port = port;
    const err = family === 6 ? handle.connect6(req, address, port) : handle.connect(req, address, port);
    if (err) process.nextTick(() => c.connectDone(err, onConnect)); // refused at once: reported as a failed connect, from the loop
    // read from the start (the Transport contract): libuv then registers the socket with epoll once, for the connect
    // and the reads, instead of once for each (an EEXIST and a second epoll_ctl per connection). Nothing is read
    // before the connect completes, and its completion runs onConnect first.
    else c.resume();
  };
  return {
    name: 'handles',
    accept(server, onConnection, onError) {
      // net.Server keeps the listening handle (so `--workers` share it through the cluster module) and its close();
      // the accepted connections come here instead of becoming net.Sockets
      const listening = (server as unknown as { _handle?: { onconnection?: unknown } })._handle;
      if (!listening || typeof listening.onconnection !== 'function') throw new Error('the server is not listening');
      listening.onconnection = (err: number, client: TcpHandle | undefined) => {
        if (err || !client) { onError(errName(err)); return; }
        client.setNoDelay(true);
        onConnection(new HandleConn(shared, client));
      };
    },
    connect(host, port, onConnect) {
      const handle = new b.TCP(b.SOCKET);
      const c = new HandleConn(shared, handle);
      const family = net.isIP(host);
      if (family !== 0) dial(c, handle, host, family, port, onConnect);
      else lookup(host, (err, address, fam) => {
        if (c.destroyed) return;
        if (err) { c.destroy(); onConnect(err.code ?? err.message); return; }
        dial(c, handle, address, fam, port, onConnect);
      });
      return c;
    },
  };
}
