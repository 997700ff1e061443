// Sidecar outbound: an HTTP/1.1 proxy for the app (HTTP_PROXY absolute-form, or origin-form with Host), and HTTP
// CONNECT for raw TCP. Resolves the service from xDS, applies its VirtualService route (match, weighted subset,
// fault, retries, timeouts) and DestinationRule (lb, circuit breaker, outlier ejection), and sends each try over
// mTLS (src/proxy/upstream.ts) to the destination's inbound or the remote network's gateway.
import { rateLimitedWarn } from './rateLimitedLog.ts';
import { decideEgress, type EgressDecision, type EgressPolicy } from './egressPolicy.ts';
import { egressMetrics, forwardHttp, refusedText, tunnelTcp, type EgressMetrics } from './egressForward.ts';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { Logger } from '../log.ts';
import type { Registry } from '../observe/metrics.ts';
import { requestMetrics, PEER_HEADER, peerHeader, type RequestMetrics } from './requestMetrics.ts';
import { ensureTraceHeaders } from './trace.ts';
import { gatewaySni } from '../mesh/names.ts';
import { route, recordOutcome, endpointKey, endEjection, outliersAfterEds, probeTargets, type EndpointTable, type LbChoice, type OutlierState } from './routing.ts';
import { editHeaders, pickDestination, sampled, selectRoute, shouldRetry, type HttpRoute, type RouteTable } from './httpRoutes.ts';
import { admits, DEFAULT_CLUSTER_POLICY, isOutlierFailure, type ClusterPolicy } from './clusterPolicy.ts';
import { Counter, metric } from '../observe/metrics.ts';
import { parseOutboundTarget, candidateHosts, IDEMPOTENT } from './outboundTarget.ts';
import { withoutHopByHop } from './hopByHop.ts';
import { Upstream } from './upstream.ts';

export interface OutboundOptions {
  host: string;
  port: number;
  namespace: string;
  sourceWorkload: string;
  /** this workload's cluster and region (telemetry labels) */
  sourceCluster?: string;
  sourceRegion?: string;
  trustDomain: string;
  tls: { key: string; cert: string; ca: string };
  registry: Registry;
  log: Logger;
  maxAttempts?: number;
  /** per try: until the response headers arrive (default 5000) */
  perTryTimeoutMs?: number;
  /** whole request, all tries included (default 15000): past it the app gets 504 */
  timeoutMs?: number;
  /** TCP+TLS handshake budget per try; a black-holed endpoint (accepts, never answers) fails over after this */
  connectTimeoutMs?: number;
  maxBodyBytes?: number;
  /** how often an endpoint ejected for connection failures is probed (TLS handshake); a success ends the ejection (default 1000) */
  probeIntervalMs?: number;
}

/** Connect failures one request may skip past (each on a different endpoint). */
const MAX_CONNECT_FAILURES = 16;
/** Without a VirtualService retry policy: idempotent requests are retried on a reset, a per-try timeout or a 503. */
const DEFAULT_RETRY_ON: ReadonlySet<string> = new Set(['reset', 'retriable-status-codes']);

interface Forward {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  host: string;
  port: number;
  path: string;
  method: string;
  headers: http.OutgoingHttpHeaders;
  body: Buffer;
  /** the destination cluster, as its SNI */
  sni: string;
  cp: ClusterPolicy;
  rt?: HttpRoute;
  started: number;
  finish: (code: number, svc: string, dest?: { region?: string; cluster?: string }, response?: NodeJS.ReadableStream) => void;
}


export class Outbound {
  /** Keyed by gatewaySni(host, port) — the same key whether the endpoint is a sidecar or a remote gateway. */
  private table: EndpointTable = new Map();
  private readonly outliers: OutlierState = new Map();
  private readonly active = new Map<string, number>();
  private readonly server: http.Server;
  private routes: RouteTable = new Map();
  private clusters: ReadonlyMap<string, ClusterPolicy> = new Map();
  private readonly inflight = new Map<string, number>();
  private readonly overflows: Counter<'destination_service'>;
  private readonly ejections: Counter<'cluster' | 'cause'>;
  private readonly up: Upstream;
  private rr = 0;
  private readonly tunnels = new Set<net.Socket>();
  private readonly m: RequestMetrics;
  private egress?: EgressPolicy;
  private egressM?: EgressMetrics;
  private egressWarn?: ReturnType<typeof rateLimitedWarn>;
  /** where to probe an endpoint ejected for connection failures: its address and the cluster (SNI) it failed for */
  private readonly probeWhere = new Map<string, { address: string; port: number; sni: string }>();
  private probeTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: OutboundOptions) {
    this.up = new Upstream(o.trustDomain, o.tls);
    this.m = requestMetrics(o.registry);
    this.overflows = metric(o.registry, 'meshfed_sidecar_upstream_rq_overflow_total', (registers) => new Counter({ name: 'meshfed_sidecar_upstream_rq_overflow_total', help: 'Requests refused by a circuit breaker (DestinationRule connectionPool limits)', labelNames: ['destination_service'], registers }));
    this.ejections = metric(o.registry, 'meshfed_sidecar_outlier_ejections_total', (registers) => new Counter({ name: 'meshfed_sidecar_outlier_ejections_total', help: 'Endpoints ejected by outlier detection (Envoy ejections_enforced_total), by destination cluster and cause: connect (refused, reset, handshake) or answer (5xx)', labelNames: ['cluster', 'cause'], registers }));
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connect', (req: http.IncomingMessage, sock: net.Socket, head: Buffer) => void this.tunnel(req, sock, head));
  }

  /**
   * A new endpoint table from EDS. Outlier state of endpoints no longer in it is dropped (as Envoy forgets a removed
   * host): a workload that went away and came back at the same address starts fresh, not still ejected.
   */
  setEndpoints(t: EndpointTable): void {
    const before = this.table;
    this.table = t;
    for (const k of outliersAfterEds(this.outliers, before, t)) this.probeWhere.delete(k);
  }
  /** RDS routes by `<host>:<port>` and CDS cluster policies by SNI (src/proxy/sidecarXds.ts). */
  setPolicy(routes: RouteTable, clusters: ReadonlyMap<string, ClusterPolicy>): void { this.routes = routes; this.clusters = clusters; }
  setCredentials(c: OutboundOptions['tls']): void { this.up.setCredentials(c); }
  /** ServiceEntries and outboundTrafficPolicy from pilot (LDS virtualOutbound); until then unknown hosts get 503. */
  setEgress(p: EgressPolicy | undefined): void { this.egress = p; }
  private egressOutcome(kind: EgressDecision['kind'], host: string, port: number): void {
    this.egressM ??= egressMetrics(this.o.registry);
    this.egressM.inc({ decision: kind });
    if (kind === 'refused') (this.egressWarn ??= rateLimitedWarn(this.o.log))(`egress|${host}:${port}`, { destination: `${host}:${port}` }, 'sidecar outbound refused a destination outside the mesh registry (outboundTrafficPolicy REGISTRY_ONLY); apply a ServiceEntry to allow it');
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => { this.server.once('error', reject); this.server.listen(this.o.port, this.o.host, () => resolve()); });
    return (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> { this.closed = true; clearTimeout(this.probeTimer); return new Promise((r) => { this.up.close(); for (const t of this.tunnels) t.destroy(); this.server.closeAllConnections(); this.server.close(() => r()); }); }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = Date.now();
    const t = parseOutboundTarget(req.url ?? '/', req.headers.host);
    if ('error' in t) { res.writeHead(400, { 'content-type': 'text/plain' }).end(`meshfed sidecar: ${t.error}\n`); return; }
    const host = candidateHosts(t.host, this.o.namespace).find((h) => this.table.has(gatewaySni(h, t.port)));
    let requestBytes = 0;
    const finish = (code: number, svc: string, dest?: { region?: string; cluster?: string }, response?: NodeJS.ReadableStream): void => {
      const labels = {
        reporter: 'source', source_workload: this.o.sourceWorkload, source_cluster: this.o.sourceCluster ?? 'unknown', source_region: this.o.sourceRegion ?? 'unknown',
        destination_service: svc, destination_cluster: dest?.cluster ?? 'unknown', destination_region: dest?.region ?? 'unknown', response_code: String(code),
      };
      this.m.requests.inc(labels);
      this.m.duration.observe(labels, Date.now() - started);
      if (requestBytes > 0) this.m.requestBytes.inc(labels, requestBytes);
      if (response) {
        let n = 0;
        response.on('data', (c: Buffer) => { n += c.length; });
        response.on('end', () => { if (n > 0) this.m.responseBytes.inc(labels, n); });
      }
    };
    const reply = (code: number, svc: string, text: string, extra: http.OutgoingHttpHeaders = {}): void => {
      res.writeHead(code, { 'content-type': 'text/plain', ...extra }).end(`${text}\n`);
      finish(code, svc);
    };
    if (!host) {
      // not a mesh service: a ServiceEntry, passthrough (ALLOW_ANY) or refused (REGISTRY_ONLY), when pilot said which
      const d = this.egress && decideEgress(this.egress, t.host, t.port, this.rr++);
      if (!d) { reply(503, t.host, `meshfed sidecar: unknown service ${t.host}:${t.port} (not in the mesh configuration from xDS)`); return; }
      this.egressOutcome(d.kind, t.host, t.port);
      if (d.kind === 'refused') { reply(502, t.host, refusedText(t.host, t.port)); return; }
      forwardHttp(req, res, d, t.path, t.host, t.port, (code) => finish(code, t.host));
      return;
    }
    const method = req.method ?? 'GET';
    // VirtualService routing (RDS `<host>:<port>`): no RouteConfiguration yet = the service's default cluster
    const routes = this.routes.get(`${host}:${t.port}`);
    const rt = routes && selectRoute(routes, { method, path: t.path, headers: req.headers });
    if (routes && !rt) { reply(404, host, `meshfed sidecar: no route of ${host}:${t.port} matches ${method} ${t.path} (VirtualService http match)`); return; }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) { size += (c as Buffer).length; if (size > (this.o.maxBodyBytes ?? 4 << 20)) { res.writeHead(413).end('meshfed sidecar: body too large to proxy\n'); return; } chunks.push(c as Buffer); }
    const body = Buffer.concat(chunks);
    requestBytes = body.length;
    if (rt?.fault) {
      const f = rt.fault;
      if (f.delayMs !== undefined && sampled(f.delayPercent, Math.random())) await new Promise((r) => setTimeout(r, f.delayMs));
      if (f.abortStatus !== undefined && sampled(f.abortPercent, Math.random())) { reply(f.abortStatus, host, 'fault filter abort', { 'x-meshfed-fault': 'abort' }); return; }
    }
    const headers: http.OutgoingHttpHeaders = withoutHopByHop(req.headers);
    headers.host = `${host}:${t.port}`;
    if (rt) editHeaders(headers as Record<string, string | string[] | number | undefined>, rt);
    ensureTraceHeaders(headers);
    headers[PEER_HEADER] = peerHeader(this.o.sourceCluster ?? 'unknown', this.o.sourceRegion ?? 'unknown');
    const sni = rt ? pickDestination(rt.destinations, Math.random()).sni : gatewaySni(host, t.port);
    const cp = this.clusters.get(sni) ?? DEFAULT_CLUSTER_POLICY;
    const inflight = this.inflight.get(sni) ?? 0;
    if (!admits(cp, inflight)) {
      this.overflows.inc({ destination_service: host });
      reply(503, host, `meshfed sidecar: circuit breaker open for ${sni}: ${inflight} requests in flight reached maxConnections ${cp.maxConnections ?? '∞'} + http1MaxPendingRequests ${cp.maxPendingRequests ?? '∞'} (DestinationRule connectionPool)`, { 'x-envoy-overloaded': 'true' });
      return;
    }
    this.inflight.set(sni, inflight + 1);
    try {
      await this.forward({ req, res, host, port: t.port, path: t.path, method, headers, body, sni, cp, ...(rt ? { rt } : {}), started, finish });
    } finally {
      const n = (this.inflight.get(sni) ?? 1) - 1;
      if (n <= 0) this.inflight.delete(sni); else this.inflight.set(sni, n);
    }
  }

  /**
   * Tries endpoints of one cluster until an answer is final. A failed connect sent nothing, so it is retried on
   * another endpoint for any method and does not use up the retry budget (each endpoint is tried at most once per
   * request, so a dead locality is skipped in one request). Failures after the request went out (reset, per-try
   * timeout, a retriable status) are retried per the route's retry policy — or, without one, for idempotent methods
   * on reset/timeout/503.
   */
  private async forward(x: Forward): Promise<void> {
    const { res, host, port, sni, cp, rt, started, finish } = x;
    const tried = new Set<string>();
    const dead = new Set<string>();
    const retry = rt?.retry;
    const maxAttempts = retry ? 1 + retry.retries : IDEMPOTENT.has(x.method) ? (this.o.maxAttempts ?? 3) : 1;
    const retryOn = retry?.retryOn ?? DEFAULT_RETRY_ON;
    let attempts = 0;
    let connectFailures = 0;
    /** a pooled connection was found dead: its endpoint may be tried again on a new connection */
    let staleSeen = false;
    let lastError = 'no healthy endpoint';
    let timedOut = false;
    const overall = rt?.timeoutMs ?? this.o.timeoutMs ?? 15000;
    const deadline = started + overall;
    const hashKey = rt?.hashHeader ? x.req.headers[rt.hashHeader] : undefined;
    while (attempts < maxAttempts && connectFailures < MAX_CONNECT_FAILURES) {
      const left = deadline - Date.now();
      if (left <= 0) {
        res.writeHead(504, { 'content-type': 'text/plain' }).end(`meshfed sidecar: ${host}:${port} did not answer within the overall timeout of ${overall} ms (VirtualService timeout or the default; ${tried.size} attempt(s); last: ${lastError})\n`);
        finish(504, host);
        return;
      }
      const lb: LbChoice = { policy: cp.lb, rand: Math.random(), panic: true, ...(hashKey !== undefined ? { hashKey: String(hashKey) } : {}), ...(cp.localityWeighted ? { localityWeighted: true, localityRand: Math.random() } : {}) };
      // prefer an endpoint not tried yet; a retry may go back to one that answered (or timed out) when it is the
      // only one left, as Envoy does — never to one whose connect failed
      let d = route(sni, this.table, this.outliers, this.active, Date.now(), tried, this.rr++, lb);
      if (d.kind !== 'endpoint' && (attempts > 0 || staleSeen)) d = route(sni, this.table, this.outliers, this.active, Date.now(), dead, this.rr++, lb);
      if (d.kind !== 'endpoint') break;
      const key = endpointKey(d.endpoint);
      tried.add(key);
      this.active.set(key, (this.active.get(key) ?? 0) + 1);
      try {
        const perTry = Math.min(retry?.perTryTimeoutMs ?? this.o.perTryTimeoutMs ?? 5000, left);
        // the short connect budget only when another endpoint is left to fail over to; the last one gets the try's
        // whole budget (a slow handshake on a loaded machine is not a reason to fail the request)
        const connectMs = this.hasAlternative(sni, tried) ? (this.o.connectTimeoutMs ?? 1000) : perTry;
        const r = await this.up.request(d.endpoint.address, d.endpoint.port, sni, x.method, x.path, x.headers, x.body, perTry, connectMs, cp);
        attempts++;
        this.recordAnswer(sni, key, r.status, cp);
        if (attempts < maxAttempts && Date.now() < deadline && shouldRetry(retryOn, { status: r.status })) { r.stream.resume(); lastError = `${key} answered ${r.status}`; continue; }
        res.writeHead(r.status, withoutHopByHop(r.headers));
        finish(r.status, host, d.endpoint, r.stream);
        r.stream.pipe(res);
        return;
      } catch (e) {
        const err = e as Error & { connectPhase?: boolean; perTryTimeout?: boolean; staleConnection?: boolean };
        lastError = `${key}: ${err.message}`;
        // nothing was sent (connect failed), or a pooled connection the peer had already closed was reset before any
        // answer (an idempotent request is safe to send again): the next endpoint now, without using up a retry
        if (err.connectPhase || (err.staleConnection && IDEMPOTENT.has(x.method))) {
          connectFailures++;
          // a refused connect rules the endpoint out for this request; a dead pooled connection does not (a remote
          // region's gateway is one endpoint: a new connection to it is the way on)
          if (err.connectPhase) dead.add(key); else staleSeen = true;
          this.connectFailed(sni, d.endpoint, key);
          continue;
        }
        attempts++;
        timedOut = err.perTryTimeout === true;
        // a reset with no answer is a connection failure for outlier detection too (Envoy's local-origin errors)
        if (!timedOut) this.connectFailed(sni, d.endpoint, key);
        if (!shouldRetry(retryOn, timedOut ? { timeout: true } : { reset: true })) break;
      } finally {
        const n = (this.active.get(key) ?? 1) - 1;
        if (n <= 0) this.active.delete(key); else this.active.set(key, n);
      }
    }
    const code = timedOut ? 504 : 503;
    res.writeHead(code, { 'content-type': 'text/plain' }).end(`meshfed sidecar: ${timedOut ? 'upstream request timeout' : 'no healthy endpoint'} for ${host}:${port} after ${tried.size} attempt(s): ${lastError}\n`);
    finish(code, host);
  }

  /** Outlier detection on answers: consecutive 5xx (or gateway errors) eject, within maxEjectionPercent. */
  private recordAnswer(sni: string, key: string, status: number, cp: ClusterPolicy): void {
    const od = cp.outlier;
    if (!od) { recordOutcome(this.outliers, key, true, Date.now()); return; }
    const now = Date.now();
    const failed = isOutlierFailure(od, status);
    let mayEject = true;
    if (failed) {
      const eps = this.table.get(sni) ?? [];
      const ejected = eps.filter((e) => (this.outliers.get(endpointKey(e))?.ejectedUntil ?? 0) > now).length;
      mayEject = ejected < Math.max(1, Math.floor((eps.length * od.maxEjectionPercent) / 100));
    }
    if (recordOutcome(this.outliers, key, !failed, now, od, mayEject, 'answer')) {
      this.ejections.inc({ cluster: sni, cause: 'answer' });
      this.o.log.warn({ endpoint: key, cluster: sni, status, consecutive: od.consecutiveFailures }, 'endpoint ejected (outlier detection)');
    }
  }

  /** HTTP CONNECT <service>:<port> → mTLS (ALPN meshfed-tcp) to an endpoint, connect failures retried on the next. */
  private async tunnel(req: http.IncomingMessage, client: net.Socket, head: Buffer): Promise<void> {
    client.on('error', () => {});
    const fail = (code: number, msg: string): void => { client.end(`HTTP/1.1 ${code} ${code === 400 ? 'Bad Request' : 'Service Unavailable'}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nmeshfed sidecar: ${msg}\n`); };
    const m = /^([a-z0-9.-]+):(\d{1,5})$/i.exec(req.url ?? '');
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) { fail(400, `CONNECT needs <service>:<port>, got ${JSON.stringify(req.url)}`); return; }
    const port = Number(m[2]);
    const host = candidateHosts(m[1]!.toLowerCase(), this.o.namespace).find((h) => this.table.has(gatewaySni(h, port)));
    if (!host) {
      const d = this.egress && decideEgress(this.egress, m[1]!, port, this.rr++);
      if (!d) { fail(503, `unknown service ${m[1]}:${port} (not in the mesh configuration from xDS)`); return; }
      this.egressOutcome(d.kind, m[1]!, port);
      if (d.kind === 'refused') { client.end(`HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${refusedText(m[1]!, port)}\n`); return; }
      tunnelTcp(client, head, d, m[1]!, port, this.tunnels);
      return;
    }
    const sni = gatewaySni(host, port);
    const tried = new Set<string>();
    let lastError = 'no healthy endpoint';
    for (let i = 0; i < MAX_CONNECT_FAILURES; i++) {
      const d = route(sni, this.table, this.outliers, this.active, Date.now(), tried, this.rr++);
      if (d.kind !== 'endpoint') break;
      const key = endpointKey(d.endpoint);
      tried.add(key);
      try {
        const up = await this.up.connectTls(d.endpoint.address, d.endpoint.port, sni, this.hasAlternative(sni, tried) ? (this.o.connectTimeoutMs ?? 1000) : (this.o.perTryTimeoutMs ?? 5000));
        recordOutcome(this.outliers, key, true, Date.now());
        if (client.destroyed) { up.destroy(); return; }
        this.tunnels.add(up); this.tunnels.add(client);
        const end = (): void => { up.destroy(); client.destroy(); this.tunnels.delete(up); this.tunnels.delete(client); };
        up.on('error', end); up.on('close', end); client.on('close', end);
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length) up.write(head);
        client.pipe(up); up.pipe(client);
        return;
      } catch (e) {
        lastError = `${key}: ${(e as Error).message}`;
        this.connectFailed(sni, d.endpoint, key);
      }
    }
    fail(503, `no healthy endpoint for ${host}:${port} after ${tried.size} attempt(s): ${lastError}`);
  }

  /** A connection to an endpoint failed (refused, reset, handshake): outlier detection; an ejection starts the probes. */
  private connectFailed(sni: string, ep: { address: string; port: number }, key: string): void {
    if (!recordOutcome(this.outliers, key, false, Date.now())) return;
    this.ejections.inc({ cluster: sni, cause: 'connect' });
    this.probeWhere.set(key, { address: ep.address, port: ep.port, sni });
    this.scheduleProbes();
  }

  /**
   * Active probing of endpoints ejected for connection failures: a TLS handshake every probeIntervalMs; the first
   * that succeeds ends the ejection (routing.ts endEjection), so a restored endpoint gets traffic back within about
   * one interval instead of after its doubled ejection time (up to 60 s). Runs only while such an ejection lasts.
   */
  private scheduleProbes(): void {
    if (this.probeTimer || this.closed) return;
    const every = this.o.probeIntervalMs ?? 1000;
    this.probeTimer = setTimeout(() => {
      const now = Date.now();
      const targets = probeTargets(this.outliers, now);
      for (const k of this.probeWhere.keys()) if (!targets.includes(k)) this.probeWhere.delete(k);
      void Promise.all(targets.map(async (k) => {
        const w = this.probeWhere.get(k);
        if (!w) return;
        if (await this.up.probe(w.address, w.port, w.sni, Math.max(250, every))) {
          if (endEjection(this.outliers, k, Date.now())) this.o.log.info({ endpoint: k, cluster: w.sni }, 'ejected endpoint answered a probe: back in rotation');
          this.probeWhere.delete(k);
        }
      })).finally(() => {
        this.probeTimer = undefined;
        if (this.probeWhere.size > 0) this.scheduleProbes();
      });
    }, every);
    this.probeTimer.unref();
  }

  /** Is there an endpoint left (not tried, not ejected) after the ones in `tried`? */
  private hasAlternative(sni: string, tried: ReadonlySet<string>): boolean {
    return route(sni, this.table, this.outliers, this.active, Date.now(), tried).kind === 'endpoint';
  }
}
