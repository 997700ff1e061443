// A byte-stream connection as the east-west gateway needs it, and the transports that provide one: libuv TCP handles
// (handleTransport.ts, the default: what HAProxy does per connection, without net.Socket's stream machinery) or
// net.Socket (netTransport.ts, the fallback). The gateway's logic (ClientHello, routing, retries, splice) is written
// once, against this interface.
import type net from 'node:net';

export interface ConnHandlers {
  /** bytes read from the peer; the buffer is the handler's to keep */
  data(b: Buffer): void;
  /** the peer sent FIN: nothing more will be read (writing may go on until `end()`) */
  end(): void;
  /** the write queue went back under its high-water mark after `write()` returned false */
  drain(): void;
  /**
   * the connection is closed: by `destroy()`, by an error (`err`, e.g. "ECONNRESET"), or because both directions
   * are finished (FIN read and our own FIN written). Called once.
   */
  close(err?: string): void;
}

export interface Conn {
  /** the peer's address, for logs (undefined once closed) */
  readonly remoteAddress: string | undefined;
  readonly destroyed: boolean;
  /** bytes queued to write */
  readonly writableLength: number;
  /** set the handlers; an accepted connection reads nothing until `resume()` */
  on(h: ConnHandlers): void;
  pause(): void;
  resume(): void;
  /** queue bytes; false once the queue is over its high-water mark (pause the source until `drain`) */
  write(b: Buffer): boolean;
  /** send FIN once everything queued is written */
  end(): void;
  /** close now; queued bytes are dropped */
  destroy(): void;
}

export type TransportName = 'handles' | 'net';
export const TRANSPORT_NAMES: readonly TransportName[] = ['handles', 'net'];

export interface Transport {
  readonly name: TransportName;
  /** take over the connections a listening server accepts (call once it listens) */
  accept(server: net.Server, onConnection: (c: Conn) => void, onError: (err: string) => void): void;
  /**
   * connect to an IP address or host name; `onConnect` runs once, with the error's code if it failed. A connected
   * Conn is reading (as if resumed): `onConnect` sets its handlers, or pauses it.
   */
  connect(host: string, port: number, onConnect: (err?: string) => void): Conn;
}

/** handlers that drop everything: a connection's state before its owner sets its own */
export const IGNORE: ConnHandlers = { data: () => {}, end: () => {}, drain: () => {}, close: () => {} };

/** bytes queued per connection before `write()` asks the source to pause (HAProxy's bufsize is 16 KiB per side) */
export const HIGH_WATER_BYTES = 64 * 1024;
