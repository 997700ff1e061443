// Connections on net.Socket: the gateway's fallback transport, for a Node.js whose handle bindings are missing or
// changed (handleTransport.ts), and `meshfed gateway --transport net`. Same semantics: half-close passed on, close
// once both directions are finished or on the first error.
import net from 'node:net';
import { IGNORE, type Conn, type ConnHandlers, type Transport } from './conn.ts';

class NetConn implements Conn {
  private h: ConnHandlers = IGNORE;
  private err: string | undefined;
  private paused = true;
  /** net emits 'end' even while paused (once its buffer is empty); a paused Conn delivers it on resume() */
  private endPending = false;

  constructor(private readonly s: net.Socket) {
    s.pause();
    s.on('data', (d: Buffer) => this.h.data(d));
    s.on('end', () => { if (this.paused) this.endPending = true; else this.h.end(); });
    s.on('drain', () => this.h.drain());
    s.on('error', (e: NodeJS.ErrnoException) => { this.err ??= e.code ?? e.message; });
    s.on('close', () => this.h.close(this.err));
  }

  get destroyed(): boolean { return this.s.destroyed; }
  get writableLength(): number { return this.s.writableLength; }
  get remoteAddress(): string | undefined { return this.s.remoteAddress; }
  on(h: ConnHandlers): void { this.h = h; }
  pause(): void { this.paused = true; this.s.pause(); }
  resume(): void {
    this.paused = false;
    this.s.resume();
    if (this.endPending) { this.endPending = false; this.h.end(); }
  }
  write(b: Buffer): boolean { return !this.s.destroyed && this.s.write(b); }
  end(): void { this.s.end(); }
  destroy(): void { this.s.destroy(); }
}

export const netTransport: Transport = {
  name: 'net',
  accept(server, onConnection, onError) {
    server.on('connection', (s: net.Socket) => onConnection(new NetConn(s)));
    server.on('error', (e: NodeJS.ErrnoException) => onError(e.code ?? e.message));
  },
  connect(host, port, onConnect) {
    const s = net.connect({ host, port, noDelay: true, allowHalfOpen: true });
    const c = new NetConn(s);
    const failed = (e: NodeJS.ErrnoException): void => { s.destroy(); onConnect(e.code ?? e.message); };
    s.once('error', failed);
    s.once('connect', () => { s.off('error', failed); c.resume(); onConnect(); });
    return c;
  },
};

/** options a net.Server needs for these semantics (FIN passed on, not answered by net itself) */
export const NET_SERVER_OPTIONS: net.ServerOpts = { noDelay: true, allowHalfOpen: true };
