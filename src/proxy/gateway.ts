// East-west gateway: reads the ClientHello's SNI without terminating TLS, picks an endpoint on this network
// (routing.ts), and splices bytes both ways. It holds no key and never sees plaintext.
import net from 'node:net';
import type { Logger } from '../log.ts';
import type { Registry } from '../observe/metrics.ts';
import { route, recordOutcome, DEFAULT_OUTLIER, type Endpoint, type EndpointTable, type OutlierPolicy, type OutlierState } from './routing.ts';
import { gatewayMetrics, beforeScrape, publishTraffic, trafficOf, type GatewayMetrics, type TrafficTable } from './gatewayMetrics.ts';
import { splice } from './gatewaySplice.ts';
import { DEFAULT_IDLE_TIMEOUT_MS, idlePairs, sweepEveryMs } from './gatewayIdle.ts';
import { Session, type SessionHost } from './gatewaySession.ts';
import type { Conn, Transport } from './conn.ts';
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
  /** what a Session asks of the gateway (the gateway's own methods, bound once) */
  private readonly host: SessionHost = {
    reject: (c, reason, detail) => this.reject(c, reason, detail),
    helloDone: (s) => this.helloDone(s),
    sessionClosed: (s) => this.sessionClosed(s),
    routeFor: (s) => this.routeFor(s),
    dial: (s, e, onConnect) => this.dial(s, e, onConnect),
    connectSettled: (s) => this.connectSettled(s),
    connectFailed: (s, err) => this.connectFailed(s, err),
    spliceStarted: (s, up, first) => this.spliceStarted(s, up, first),
    spliceClosed: (s) => this.spliceClosed(s),
  };
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
  private reject(c: Conn, reason: string, detail: string): void {
    this.m.rejected.inc({ reason });
    this.warn(reason, { remote: c.remoteAddress, detail }, 'gateway closed connection before routing');
    c.destroy();
  }

  private accept(c: Conn): void {
    this.conns.add(c);
    const s = new Session(this.host, c);
    this.helloDeadlines.add(s);
    c.on(s);
    c.resume();
  }

  private helloDone(s: Session): void { this.helloDeadlines.cancel(s); }

  private sessionClosed(s: Session): void {
    this.helloDeadlines.cancel(s);
    this.conns.delete(s.down);
  }

  /** connect upstream for a session, within the connect timeout */
  private dial(s: Session, e: Endpoint, onConnect: (err?: string) => void): Conn {
    const up = this.transport.connect(e.address, e.port, onConnect);
    this.connectDeadlines.add(s);
    return up;
  }

  private connectSettled(s: Session): void { this.connectDeadlines.cancel(s); }

  /** the next endpoint to try for a session, or undefined once it was rejected */
  private routeFor(s: Session): { service: string; endpoint: Endpoint } | undefined {
    const d = route(s.sni, this.table, this.outliers, this.active, Date.now(), s.tried, this.rr++);
    if (d.kind === 'endpoint') return { service: d.cluster, endpoint: d.endpoint };
    if (d.kind === 'bad-sni') this.reject(s.down, 'unknown_sni', d.reason);
    else if (d.kind === 'unknown-service') this.reject(s.down, 'unknown_sni', `no service for SNI ${d.cluster}`);
    else this.reject(s.down, 'no_endpoint', `no ready endpoint for ${d.cluster} after ${s.attempts} attempts`);
    return undefined;
  }

  /** an upstream connect failed: count it, maybe eject the endpoint; whether another may be tried */
  private connectFailed(s: Session, err: string): boolean {
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
  private spliceStarted(s: Session, up: Conn, first: Buffer): void {
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

  private spliceClosed(s: Session): void {
    this.spliced.delete(s);
    s.stats.connectionsActive -= 1;
    const n = (this.active.get(s.key) ?? 1) - 1;
    if (n <= 0) this.active.delete(s.key); else this.active.set(s.key, n);
    this.conns.delete(s.down);
    if (s.up) this.conns.delete(s.up);
  }
}
