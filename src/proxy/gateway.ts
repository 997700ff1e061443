// East-west gateway: reads the ClientHello's SNI without terminating TLS, picks an endpoint on this network
// (routing.ts), and splices bytes both ways. It holds no key and never sees plaintext.
import net from 'node:net';
import type { Logger } from '../log.ts';
import type { Registry } from '../observe/metrics.ts';
import { parseClientHello, MAX_HELLO_BYTES } from './clientHello.ts';
import { route, recordOutcome, endpointKey, DEFAULT_OUTLIER, type Endpoint, type EndpointTable, type OutlierPolicy, type OutlierState } from './routing.ts';
import { gatewayMetrics, beforeScrape, publishTraffic, trafficOf, type GatewayMetrics, type ServiceTraffic, type TrafficTable } from './gatewayMetrics.ts';
import { splice, type SpliceOwner } from './gatewaySplice.ts';
import { DEFAULT_IDLE_TIMEOUT_MS, idlePairs, sweepEveryMs, type Watched } from './gatewayIdle.ts';
import { HIGH_WATER_BYTES, type Conn, type ConnHandlers, type Transport } from './conn.ts';
import { NET_SERVER_OPTIONS } from './netTransport.ts';
import { pickTransport } from './gatewayTransport.ts';
import { Deadlines } from './gatewayDeadlines.ts';
import { rateLimitedWarn } from './rateLimitedLog.ts';


export interface GatewayOptions {
  host: string;
  port: number;
  registry: Registry;
  log: Logger;
  helloTimeoutMs?: number;
  connectTimeoutMs?: number;
  maxConnectAttempts?: number;
  outlier?: OutlierPolicy;
  /** how connections are accepted, read and written (default: pickTransport's) */
  transport?: Transport;
  /** close a spliced pair that moved no byte either way for this long (default: an hour, as Envoy; 0: never) */
  idleTimeoutMs?: number;
}

export class Gateway {
  private table: EndpointTable = new Map();
  private readonly outliers: OutlierState = new Map();
  private readonly active = new Map<string, number>();
  private readonly conns = new Set<Conn>();
  private readonly spliced = new Set<Session>();
  private idleSweep: ReturnType<typeof setInterval> | undefined;
  private readonly server: net.Server;
  private readonly m: GatewayMetrics;
  private readonly traffic: TrafficTable = new Map();
  private readonly helloDeadlines: Deadlines<Session>;
  private readonly connectDeadlines: Deadlines<Session>;
  private readonly stopPublishing: () => void;
  private readonly warn: ReturnType<typeof rateLimitedWarn>;
  private readonly transport: Transport;
  private rr = 0;
  private configured = false;
  private draining = false;

  constructor(private readonly opts: GatewayOptions) {
    this.m = gatewayMetrics(opts.registry);
    this.helloDeadlines = new Deadlines(opts.helloTimeoutMs ?? 5000, (s) => this.reject(s.down, 'hello_timeout', 'no complete ClientHello in time'));
    this.connectDeadlines = new Deadlines(opts.connectTimeoutMs ?? 3000, (s) => s.connectTimedOut());
    this.stopPublishing = beforeScrape(opts.registry, () => publishTraffic(this.traffic, this.m));
    this.warn = rateLimitedWarn(opts.log);
    this.transport = opts.transport ?? pickTransport().transport;
    // TCP_NODELAY both ways (as HAProxy sets it): relayed TLS records go out as they arrive, without Nagle's wait.
    // The server only listens: its accepted connections go to the transport (see listen()).
    this.server = net.createServer(NET_SERVER_OPTIONS);
  }

  /**
   * Replace the endpoint table (from CDS/EDS). The gateway becomes ready with the first table that holds a service
   * with its endpoints (an empty first push, sent before the control plane knows any service, is not enough), and
   * stays ready if services later go away.
   */
  setEndpoints(table: EndpointTable): void {
    this.table = table;
    if (table.size > 0) this.configured = true;
  }

  get ready(): boolean { return this.configured && !this.draining; }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => { this.server.off('error', reject); resolve(); });
    });
    this.transport.accept(this.server, (c) => this.accept(c), (err) => {
      this.m.rejected.inc({ reason: 'accept_error' });
      this.warn('accept', { err }, 'gateway could not accept a connection');
    });
    const idleMs = this.opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    if (idleMs > 0) {
      this.idleSweep = setInterval(() => this.closeIdle(idleMs), sweepEveryMs(idleMs));
      this.idleSweep.unref();
    }
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Stop accepting, let open connections finish for up to graceMs, then destroy the rest. */
  async drain(graceMs = 5000): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    const deadline = Date.now() + graceMs;
    while (this.conns.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const c of this.conns) c.destroy();
    await closed;
    clearInterval(this.idleSweep);
    this.helloDeadlines.clear();
    this.connectDeadlines.clear();
    publishTraffic(this.traffic, this.m); // the final figures stay on the registry
    this.stopPublishing();
  }

  private closeIdle(idleMs: number): void {
    for (const p of idlePairs(this.spliced, Date.now(), idleMs)) {
      this.m.idleTimeouts.inc({ service: p.service });
      p.down.destroy();
      p.up?.destroy();
    }
  }

  /** close a connection before it is routed, counting why */
  reject(c: Conn, reason: string, detail: string): void {
    this.m.rejected.inc({ reason });
    this.warn(reason, { remote: c.remoteAddress, detail }, 'gateway closed connection before routing');
    c.destroy();
  }

  private accept(c: Conn): void {
    this.conns.add(c);
    const s = new Session(this, c);
    this.helloDeadlines.add(s);
    c.on(s);
    c.resume();
  }

  helloDone(s: Session): void { this.helloDeadlines.cancel(s); }

  sessionClosed(s: Session): void {
    this.helloDeadlines.cancel(s);
    this.conns.delete(s.down);
  }

  /** connect upstream for a session, within the connect timeout */
  dial(s: Session, e: Endpoint, onConnect: (err?: string) => void): Conn {
    const up = this.transport.connect(e.address, e.port, onConnect);
    this.connectDeadlines.add(s);
    return up;
  }

  connectSettled(s: Session): void { this.connectDeadlines.cancel(s); }

  /** the next endpoint to try for a session, or undefined once it was rejected */
  routeFor(s: Session): { service: string; endpoint: Endpoint } | undefined {
    const d = route(s.sni, this.table, this.outliers, this.active, Date.now(), s.tried, this.rr++);
    if (d.kind === 'endpoint') return { service: d.cluster, endpoint: d.endpoint };
    if (d.kind === 'bad-sni') this.reject(s.down, 'unknown_sni', d.reason);
    else if (d.kind === 'unknown-service') this.reject(s.down, 'unknown_sni', `no service for SNI ${d.cluster}`);
    else this.reject(s.down, 'no_endpoint', `no ready endpoint for ${d.cluster} after ${s.attempts} attempts`);
    return undefined;
  }

  /** an upstream connect failed: count it, maybe eject the endpoint; whether another may be tried */
  connectFailed(s: Session, err: string): boolean {
    const { service, key } = s;
    this.m.connectFailures.inc({ service });
    if (recordOutcome(this.outliers, key, false, Date.now(), this.opts.outlier ?? DEFAULT_OUTLIER)) {
      this.m.ejections.inc({ service });
      this.opts.log.warn({ service, endpoint: key }, 'gateway ejected endpoint after connect failures');
    }
    this.warn(`connect:${key}`, { service, endpoint: key, err }, 'gateway upstream connect failed');
    if (s.attempts < (this.opts.maxConnectAttempts ?? 3)) return true;
    this.reject(s.down, 'no_endpoint', `connect failed on ${s.attempts} endpoints`);
    return false;
  }

  /** upstream is connected: splice the pair */
  spliceStarted(s: Session, up: Conn, first: Buffer): void {
    recordOutcome(this.outliers, s.key, true, Date.now());
    this.conns.add(up);
    s.stats = trafficOf(this.traffic, s.service);
    s.stats.connectionsTotal += 1;
    s.stats.connectionsActive += 1;
    this.active.set(s.key, (this.active.get(s.key) ?? 0) + 1);
    s.quietSince = Date.now();
    this.spliced.add(s);
    splice(s.down, up, first, s.ended, s);
  }

  spliceClosed(s: Session): void {
    this.spliced.delete(s);
    s.stats.connectionsActive -= 1;
    const n = (this.active.get(s.key) ?? 1) - 1;
    if (n <= 0) this.active.delete(s.key); else this.active.set(s.key, n);
    this.conns.delete(s.down);
    if (s.up) this.conns.delete(s.up);
  }
}

const NO_TRAFFIC: ServiceTraffic = { connectionsTotal: 0, connectionsActive: 0, bytesIn: 0, bytesOut: 0 };
const NOT_TRIED: ReadonlySet<string> = new Set();

/**
 * One client connection, from accept to close: its ClientHello (`hello`), then, while upstream connects, what the
 * client sends after it and its FIN (kept and sent upstream after the hello; over HIGH_WATER_BYTES the client is
 * paused; a pause and a resume would cost two epoll_ctl per connection), then the splice, whose owner it is.
 * It handles the client's events until the splice takes them over, and is the key of its hello and connect
 * deadlines: per connection, one object and one closure (the connect callback) instead of one closure per event.
 */
class Session implements ConnHandlers, SpliceOwner, Watched {
  private phase: 'hello' | 'connecting' = 'hello';
  /** the ClientHello so far; then the hello and what came after it */
  private chunks: Buffer[] = [];
  private held = 0;
  ended = false;
  sni = '';
  /** endpoints tried for this connection before the current attempt (allocated on a retry only) */
  tried: ReadonlySet<string> = NOT_TRIED;
  attempts = 0;
  service = '';
  key = '';
  up: Conn | undefined;
  // splice and idle bookkeeping
  stats: ServiceTraffic = NO_TRAFFIC;
  bytes = 0;
  seen = 0;
  quietSince = 0;

  constructor(private readonly gw: Gateway, readonly down: Conn) {}

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
      if (this.tried === NOT_TRIED) this.tried = new Set();
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
    if (up !== this.up || this.phase !== 'connecting') return;
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
    if (!up || this.phase !== 'connecting') return;
    this.up = undefined;
    up.destroy();
    this.failed('connect timeout');
  }

  spliceClosed(): void { this.gw.spliceClosed(this); }
}
