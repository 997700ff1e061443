// A lean gRPC client over node:http2, for the proxies: one HTTP/2 connection per channel, unary and bidirectional
// calls, length-prefixed messages, grpc-status/grpc-message trailers, deadlines as grpc-timeout. No compression,
// no name resolution beyond the OS's, no load balancing: a proxy talks to one control-plane address (a Service).
// grpc-js stays the server and the control plane's client; loading it costs a proxy ~8 MB of its ~60 MB
// (bench/footprint.bench.ts). Wire format: https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md
import http2 from 'node:http2';
import { EventEmitter } from 'node:events';
import { GrpcStatus, statusFromHttp } from './status.ts';
import { MessageReader, frameMessage } from './framing.ts';

export { GrpcStatus };

export class GrpcError extends Error {
  constructor(message: string, readonly code: number) { super(message); }
}

export interface ChannelOptions {
  /** TLS: roots that verify the server, and the name to verify (grpc-js's ssl_target_name_override) */
  tls?: { caPem: string; serverName?: string };
  /**
   * An HTTP/2 PING every intervalMs; the connection is given up (its calls fail UNAVAILABLE) when one is not answered
   * within timeoutMs: a peer that hangs without closing the connection (SIGSTOP, a partition). Default: none.
   */
  keepalive?: { intervalMs: number; timeoutMs: number };
}

export interface Codec<Req, Res> { encode: (m: Req) => Uint8Array; decode: (b: Buffer) => Res }

/** A bidirectional call: 'data' (each decoded message), then 'end' (grpc-status OK) or 'error' (a GrpcError). */
export interface BidiCall<Req> extends EventEmitter {
  write(m: Req): boolean;
  end(): void;
  cancel(): void;
}

/** "host:port", "dns:///host:port" or "[v6]:port" → the URL http2.connect takes */
export function channelUrl(address: string, tls: boolean): string {
  const a = address.replace(/^dns:(\/\/\/)?/, '');
  if (!/:\d+$/.test(a)) throw new Error(`gRPC address ${address}: expected host:port`);
  return `${tls ? 'https' : 'http'}://${a}`;
}

export class GrpcChannel {
  private session: http2.ClientHttp2Session | undefined;
  private closed = false;
  private readonly url: string;

  constructor(readonly address: string, private readonly opts: ChannelOptions = {}) {
    this.url = channelUrl(address, !!opts.tls);
  }

  /** the connection, opened on first use and again after it broke */
  private connection(): http2.ClientHttp2Session {
    if (this.closed) throw new GrpcError(`gRPC channel to ${this.address} is closed`, GrpcStatus.CANCELLED);
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const tls = this.opts.tls;
    const s = http2.connect(this.url, tls ? { ca: tls.caPem, ...(tls.serverName ? { servername: tls.serverName } : {}) } : {});
    // errors reach each call through its stream; a session without calls must not crash the process
    s.on('error', () => {});
    s.on('goaway', () => { if (this.session === s) this.session = undefined; });
    s.on('close', () => { if (this.session === s) this.session = undefined; });
    if (this.opts.keepalive) keepAlive(s, this.opts.keepalive, this.address);
    this.session = s;
    return s;
  }

  private open(path: string, metadata: Record<string, string>, deadlineMs?: number): http2.ClientHttp2Stream {
    const headers: http2.OutgoingHttpHeaders = {
      ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers',
      'grpc-accept-encoding': 'identity', 'user-agent': 'meshfed-grpc/1', ...metadata,
    };
    if (deadlineMs !== undefined) headers['grpc-timeout'] = `${Math.max(1, Math.ceil(deadlineMs))}m`;
    return this.connection().request(headers);
  }

  /** Starts a bidirectional streaming call. */
  bidi<Req, Res>(path: string, codec: Codec<Req, Res>, metadata: Record<string, string> = {}): BidiCall<Req> {
    const call = new EventEmitter() as BidiCall<Req>;
    let st: http2.ClientHttp2Stream;
    try {
      st = this.open(path, metadata);
    } catch (e) {
      queueMicrotask(() => call.emit('error', asGrpcError(e, this.address)));
      call.write = () => false; call.end = () => {}; call.cancel = () => {};
      return call;
    }
    call.write = (m) => st.write(frameMessage(codec.encode(m)));
    call.end = () => { st.end(); };
    call.cancel = () => { if (!st.closed) st.close(http2.constants.NGHTTP2_CANCEL); };
    settle(st, this.address, (b) => call.emit('data', codec.decode(b)), (err) => {
      if (err) call.emit('error', err); else call.emit('end');
    });
    return call;
  }

  /** One request, one response, within deadlineMs. */
  unary<Req, Res>(path: string, codec: Codec<Req, Res>, req: Req, metadata: Record<string, string>, deadlineMs: number): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      let st: http2.ClientHttp2Stream;
      try { st = this.open(path, metadata, deadlineMs); } catch (e) { reject(asGrpcError(e, this.address)); return; }
      const timer = setTimeout(() => {
        st.close(http2.constants.NGHTTP2_CANCEL);
        reject(new GrpcError(`deadline of ${deadlineMs} ms exceeded calling ${path} on ${this.address}`, GrpcStatus.DEADLINE_EXCEEDED));
      }, deadlineMs);
      let res: Res | undefined;
      settle(st, this.address, (b) => { res ??= codec.decode(b); }, (err) => {
        clearTimeout(timer);
        if (err) reject(err);
        else if (res === undefined) reject(new GrpcError(`${path} on ${this.address} answered OK without a message`, GrpcStatus.INTERNAL));
        else resolve(res);
      });
      st.end(frameMessage(codec.encode(req)));
    });
  }

  close(): void {
    this.closed = true;
    this.session?.close();
    this.session = undefined;
  }
}

function keepAlive(s: http2.ClientHttp2Session, k: { intervalMs: number; timeoutMs: number }, address: string): void {
  const every = setInterval(() => {
    if (s.closed || s.destroyed || s.connecting) return;
    const late = setTimeout(() => s.destroy(new Error(`${address} did not answer a keepalive PING within ${k.timeoutMs} ms`)), k.timeoutMs);
    late.unref();
    try { s.ping(() => clearTimeout(late)); } catch { clearTimeout(late); }
  }, k.intervalMs);
  every.unref();
  s.once('close', () => clearInterval(every));
}

/** grpc-message is percent-encoded; a peer's malformed encoding is shown as sent, never thrown from an event handler */
function percentDecoded(m: string): string {
  try { return decodeURIComponent(m); } catch { return m; }
}

function asGrpcError(e: unknown, address: string): GrpcError {
  if (e instanceof GrpcError) return e;
  return new GrpcError(`gRPC connection to ${address} failed: ${(e as Error).message}`, GrpcStatus.UNAVAILABLE);
}

/**
 * Reads a call's messages and its status: from the trailers, or from the headers of a trailers-only answer, or from
 * the HTTP status when the peer is not a gRPC server. done(undefined) on grpc-status 0.
 */
function settle(st: http2.ClientHttp2Stream, address: string, onMessage: (b: Buffer) => void, done: (err?: GrpcError) => void): void {
  const reader = new MessageReader();
  let status: { code: number; message: string } | undefined;
  let finished = false;
  const finish = (err?: GrpcError): void => { if (!finished) { finished = true; done(err); } };
  const statusOf = (h: http2.IncomingHttpHeaders): void => {
    if (h['grpc-status'] === undefined) return;
    status = { code: Number(h['grpc-status']), message: percentDecoded(String(h['grpc-message'] ?? '')) };
  };
  st.on('response', (h) => {
    const http = Number(h[':status']);
    if (http !== 200) status ??= { code: statusFromHttp(http), message: `HTTP ${http} from ${address}, not a gRPC answer` };
    else if (!String(h['content-type'] ?? '').startsWith('application/grpc')) status ??= { code: GrpcStatus.UNKNOWN, message: `${address} answered content-type ${h['content-type']}, not application/grpc` };
    statusOf(h);
  });
  st.on('trailers', statusOf);
  // the server ended the call (its trailers came): end our side too, or the stream stays half-open, never 'close's,
  // and the server's graceful shutdown waits for it forever
  st.on('end', () => { if (!st.writableEnded) st.end(); });
  st.on('data', (d: Buffer) => {
    try {
      for (const m of reader.push(d)) onMessage(m);
    } catch (e) {
      finish(new GrpcError(`bad message from ${address}: ${(e as Error).message}`, GrpcStatus.INTERNAL));
      st.close(http2.constants.NGHTTP2_CANCEL);
    }
  });
  st.on('error', (e: Error) => { status ??= { code: GrpcStatus.UNAVAILABLE, message: `${address}: ${e.message}` }; });
  st.on('close', () => {
    if (!status) {
      const code = st.rstCode === http2.constants.NGHTTP2_CANCEL ? GrpcStatus.CANCELLED : GrpcStatus.UNAVAILABLE;
      return finish(new GrpcError(`${address} closed the call without a status (RST_STREAM ${st.rstCode ?? 0})`, code));
    }
    if (status.code === GrpcStatus.OK) return finish();
    finish(new GrpcError(status.message || `grpc-status ${status.code}`, status.code));
  });
}
