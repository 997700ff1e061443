// East-west gateway: reads the ClientHello's SNI without terminating TLS, picks an endpoint on this network
// (routing.ts), and splices bytes both ways. It holds no key and never sees plaintext.
import net from 'node:net';
import type { Logger } from '../log.ts';
import type { Registry } from '../observe/metrics.ts';
import { parseClientHello, MAX_HELLO_BYTES } from './clientHello.ts';
import { route, recordOutcome, endpointKey, DEFAULT_OUTLIER, type EndpointTable, type OutlierPolicy, type OutlierState } from './routing.ts';
import { gatewayMetrics, beforeScrape, publishTraffic, trafficOf, type GatewayMetrics, type TrafficTable } from './gatewayMetrics.ts';
import { splice } from './gatewaySplice.ts';
import { DEFAULT_IDLE_TIMEOUT_MS, idlePairs, sweepEveryMs, type Watched } from './gatewayIdle.ts';
import { HIGH_WATER_BYTES, type Conn, type Transport } from './conn.ts';
import { NET_SERVER_OPTIONS } from './netTransport.ts';
import { pickTransport } from './gatewayTransport.ts';
import { Deadlines } from './gatewayDeadlines.ts';
import { rateLimitedWarn } from './rateLimitedLog.ts';

const EMPTY = Buffer.alloc(0);

/** what the client sent from its ClientHello on, until upstream is connected */
interface Early { chunks: Buffer[]; bytes: number; ended: boolean }

/** a spliced client and upstream connection, watched for idleness */
interface Pair extends Watched { readonly down: Conn; readonly up: Conn; readonly service: string }

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
  private readonly spliced = new Set<Pair>();
  private idleSweep: ReturnType<typeof setInterval> | undefined;
  private readonly server: net.Server;
  private readonly m: GatewayMetrics;
  private readonly traffic: TrafficTable = new Map();
  private readonly helloDeadlines: Deadlines;
  private readonly connectDeadlines: Deadlines;
  private readonly stopPublishing: () => void;
  private readonly warn: ReturnType<typeof rateLimitedWarn>;
  private readonly transport: Transport;
  private rr = 0;
  private configured = false;
  private draining = false;

  constructor(private readonly opts: GatewayOptions) {
    this.m = gatewayMetrics(opts.registry);
    this.helloDeadlines = new Deadlines(opts.helloTimeoutMs ?? 5000);
    this.connectDeadlines = new Deadlines(opts.connectTimeoutMs ?? 3000);
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
      p.up.destroy();
    }
  }

  private reject(c: Conn, reason: string, detail: string): void {
    this.m.rejected.inc({ reason });
    this.warn(reason, { remote: c.remoteAddress, detail }, 'gateway closed connection before routing');
    c.destroy();
  }

  private accept(c: Conn): void {
    this.conns.add(c);
    let buf: Buffer = EMPTY;
    const onTimeout = (): void => this.reject(c, 'hello_timeout', 'no complete ClientHello in time');
    const close = (): void => { this.helloDeadlines.cancel(onTimeout); this.conns.delete(c); };
    this.helloDeadlines.add(onTimeout);
    c.on({
      data: (d) => {
        buf = buf.length ? Buffer.concat([buf, d]) : d;
        const r = parseClientHello(buf, MAX_HELLO_BYTES);
        if (r.kind === 'need-more') return;
        this.helloDeadlines.cancel(onTimeout);
        if (r.kind === 'not-tls') return this.reject(c, 'not_tls', r.reason);
        if (r.kind === 'no-sni') return this.reject(c, 'no_sni', 'ClientHello has no server_name');
        this.forward(c, r.serverName, this.holdEarly(c, buf, close));
      },
      end: () => c.destroy(), // the client gave up before a whole ClientHello
      drain: () => {},
      close,
    });
    c.resume();
  }

  /**
   * While upstream connects the client stays read (a pause and a resume would cost two epoll_ctl per connection):
   * what it sends meanwhile, and its FIN, are kept and go upstream after the hello. Over HIGH_WATER_BYTES it is paused.
   */
  private holdEarly(c: Conn, hello: Buffer, close: () => void): Early {
    const early: Early = { chunks: [hello], bytes: hello.length, ended: false };
    c.on({
      data: (d) => { early.chunks.push(d); early.bytes += d.length; if (early.bytes >= HIGH_WATER_BYTES) c.pause(); },
      end: () => { early.ended = true; },
      drain: () => {},
      close,
    });
    return early;
  }

  private forward(down: Conn, sni: string, early: Early): void {
    const tried = new Set<string>();
    const maxAttempts = this.opts.maxConnectAttempts ?? 3;
    const attempt = (): void => {
      if (down.destroyed) return;
      const d = route(sni, this.table, this.outliers, this.active, Date.now(), tried, this.rr++);
      if (d.kind === 'bad-sni') return this.reject(down, 'unknown_sni', d.reason);
      if (d.kind === 'unknown-service') return this.reject(down, 'unknown_sni', `no service for SNI ${d.cluster}`);
      if (d.kind === 'no-endpoint') return this.reject(down, 'no_endpoint', `no ready endpoint for ${d.cluster} after ${tried.size} attempts`);
      const service = d.cluster;
      const key = endpointKey(d.endpoint);
      tried.add(key);
      let settled = false;
      const onFail = (err: string): void => {
        settled = true;
        this.m.connectFailures.inc({ service });
        if (recordOutcome(this.outliers, key, false, Date.now(), this.opts.outlier ?? DEFAULT_OUTLIER)) {
          this.m.ejections.inc({ service });
          this.opts.log.warn({ service, endpoint: key }, 'gateway ejected endpoint after connect failures');
        }
        this.warn(`connect:${key}`, { service, endpoint: key, err }, 'gateway upstream connect failed');
        if (tried.size >= maxAttempts) return this.reject(down, 'no_endpoint', `connect failed on ${tried.size} endpoints`);
        attempt();
      };
      const onTimeout = (): void => { if (settled) return; up.destroy(); onFail('connect timeout'); };
      const up = this.transport.connect(d.endpoint.address, d.endpoint.port, (err) => {
        if (settled) return;
        this.connectDeadlines.cancel(onTimeout);
        if (err !== undefined) return onFail(err);
        settled = true;
        recordOutcome(this.outliers, key, true, Date.now());
        this.splice(down, up, service, key, early);
      });
      this.connectDeadlines.add(onTimeout);
    };
    attempt();
  }

  private splice(down: Conn, up: Conn, service: string, key: string, early: Early): void {
    this.conns.add(up);
    const stats = trafficOf(this.traffic, service);
    stats.connectionsTotal += 1;
    stats.connectionsActive += 1;
    this.active.set(key, (this.active.get(key) ?? 0) + 1);
    const first = early.chunks.length === 1 ? early.chunks[0]! : Buffer.concat(early.chunks, early.bytes);
    const pair: Pair = { down, up, service, activity: { bytes: 0 }, seen: 0, quietSince: Date.now() };
    this.spliced.add(pair);
    splice(down, up, first, early.ended, stats, pair.activity, () => {
      this.spliced.delete(pair);
      stats.connectionsActive -= 1;
      const n = (this.active.get(key) ?? 1) - 1;
      if (n <= 0) this.active.delete(key); else this.active.set(key, n);
      this.conns.delete(down);
      this.conns.delete(up);
    });
  }
}
