// One client connection through the east-west gateway, from accept to close: its ClientHello, the connect attempts
// (another endpoint after a failure or the connect timeout), what the client sends while upstream connects, then the
// splice, whose owner it is. Decisions and bookkeeping stay with the gateway (SessionHost); the session holds the
// connection's state and handles the client's events until the splice takes them over.
//
// Why an object and not closures: at thousands of connections a second, what a connection allocates and keeps alive
// while it lives is what the young-generation GC copies. Side by side in a proxy-bound storm, one closure per event
// (hello, early bytes, attempt, timeouts) cost the gateway 0.057–0.069 ms of user CPU per connection, this object
// 0.037–0.055: 20–38 % less (docs/sidecar.md).
import { parseClientHello, MAX_HELLO_BYTES } from './clientHello.ts';
import { endpointKey, NOTHING_EXCLUDED, type Endpoint } from './routing.ts';
import type { ServiceTraffic } from './gatewayMetrics.ts';
import type { SpliceOwner } from './gatewaySplice.ts';
import type { Watched } from './gatewayIdle.ts';
import { HIGH_WATER_BYTES, type Conn, type ConnHandlers } from './conn.ts';

/** What a session asks of its gateway. */
export interface SessionHost {
  /** close a connection before it is routed, counting why */
  reject(c: Conn, reason: string, detail: string): void;
  /** the hello is whole (or refused): its deadline is over */
  helloDone(s: Session): void;
  /** the client's connection closed before the splice took it over */
  sessionClosed(s: Session): void;
  /** the next endpoint to try, or undefined once the connection was rejected */
  routeFor(s: Session): { service: string; endpoint: Endpoint } | undefined;
  /** connect upstream, within the connect timeout (which calls `connectTimedOut()`) */
  dial(s: Session, e: Endpoint, onConnect: (err?: string) => void): Conn;
  /** the connect finished either way: its deadline is over */
  connectSettled(s: Session): void;
  /** the attempt's connect failed: whether another endpoint may be tried (else the connection was rejected) */
  connectFailed(s: Session, err: string): boolean;
  /** upstream is connected: splice `first` and what follows */
  spliceStarted(s: Session, up: Conn, first: Buffer): void;
  /** both sides of the splice are closed */
  spliceClosed(s: Session): void;
}

/** a session's stats until it is spliced (frozen: nothing counts on it) */
const NO_TRAFFIC: ServiceTraffic = Object.freeze({ connectionsTotal: 0, connectionsActive: 0, bytesIn: 0, bytesOut: 0 });

/**
 * A client connection: its ClientHello (phase `hello`), then, while upstream connects, what the client sends after
 * it and its FIN, kept and sent upstream after the hello (the client stays read: a pause and a resume would cost two
 * epoll_ctl per connection; over HIGH_WATER_BYTES it is paused). It is the key of its hello and connect deadlines.
 */
export class Session implements ConnHandlers, SpliceOwner, Watched {
  private phase: 'hello' | 'connecting' = 'hello';
  /** the ClientHello so far; then the hello and what came after it */
  private chunks: Buffer[] = [];
  private held = 0;
  ended = false;
  sni = '';
  /** endpoints tried for this connection before the current attempt (allocated on a retry only) */
  tried: ReadonlySet<string> = NOTHING_EXCLUDED;
  attempts = 0;
  service = '';
  key = '';
  up: Conn | undefined;
  // splice and idle bookkeeping
  stats: ServiceTraffic = NO_TRAFFIC;
  bytes = 0;
  seen = 0;
  quietSince = 0;

  constructor(private readonly gw: SessionHost, readonly down: Conn) {}

  data(d: Buffer): void {
    this.chunks.push(d);
    this.held += d.length;
    if (this.phase === 'connecting') { if (this.held >= HIGH_WATER_BYTES) this.down.pause(); return; }
    const buf = this.chunks.length === 1 ? d : Buffer.concat(this.chunks, this.held);
    if (this.chunks.length > 1) this.chunks = [buf];
    const r = parseClientHello(buf, MAX_HELLO_BYTES);
    if (r.kind === 'need-more') return;
    this.gw.helloDone(this);
    if (r.kind === 'not-tls') return this.gw.reject(this.down, 'not_tls', r.reason);
    if (r.kind === 'no-sni') return this.gw.reject(this.down, 'no_sni', 'ClientHello has no server_name');
    this.phase = 'connecting';
    this.sni = r.serverName;
    this.attempt();
  }

  /** before the hello is whole the client gave up: close; while upstream connects, its FIN goes up after the hello */
  end(): void { if (this.phase === 'hello') this.down.destroy(); else this.ended = true; }

  drain(): void {}

  close(): void { this.gw.sessionClosed(this); }

  attempt(): void {
    if (this.down.destroyed) return;
    if (this.key !== '') { // a retry: not the endpoint that just failed, nor any before it
      if (this.tried === NOTHING_EXCLUDED) this.tried = new Set();
      (this.tried as Set<string>).add(this.key);
    }
    const to = this.gw.routeFor(this);
    if (!to) return;
    this.attempts += 1;
    this.service = to.service;
    this.key = endpointKey(to.endpoint);
    const up: Conn = this.gw.dial(this, to.endpoint, (err) => this.connected(up, err));
    this.up = up;
  }

  /** the connect of `up` finished (a late one, for an attempt that timed out, is ignored) */
  private connected(up: Conn, err: string | undefined): void {
    if (up !== this.up) return;
    this.gw.connectSettled(this);
    if (err !== undefined) { this.up = undefined; return this.failed(err); }
    const first = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.held);
    this.chunks = [];
    this.gw.spliceStarted(this, up, first);
  }

  /** the attempt's connect failed or timed out: another endpoint, or give up */
  failed(err: string): void {
    if (this.gw.connectFailed(this, err)) this.attempt();
  }

  connectTimedOut(): void {
    const up = this.up;
    if (!up) return;
    this.up = undefined;
    up.destroy();
    this.failed('connect timeout');
  }

  spliceClosed(): void { this.gw.spliceClosed(this); }
}
