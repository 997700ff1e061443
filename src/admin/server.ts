// The control plane's admin HTTP server (15014): health, Prometheus metrics, istiod-like debug JSON,
// a WebSocket event stream at /events and the dashboard at /.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { createLogger } from '../log.ts';
import { packagePath } from '../packagePaths.ts';
import { Gauge, metric } from '../observe/metrics.ts';
import type { MeshEvent } from '../observe/events.ts';
import type { AdminSources } from './sources.ts';
import { registryView, topologyView } from './views.ts';
import { TrafficCollector, type CollectorOptions } from './collector.ts';
import { SeriesStore } from './series.ts';
import { buildGraph, type GraphModel } from './graphModel.ts';
import { GraphFeed } from './feed.ts';

const log = createLogger('admin');
// static files, read from the package (the build bundles code only)
const dashboardFile = (name: string): string => packagePath('src', 'admin', 'dashboard', name);
const STATIC: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/app.js': 'app.js',
  '/graph.js': 'graph.js',
  '/style.css': 'style.css',
};
/**
 * The graph library, served from the installed packages (no CDN: the control plane may have no internet); resolved
 * from this module, which finds the package's node_modules from src/admin and from the bundle in dist/js alike.
 */
const vendorRequire = createRequire(import.meta.url);
const VENDOR: Record<string, string> = {
  '/vendor/cytoscape.min.js': 'cytoscape/dist/cytoscape.min.js',
  '/vendor/layout-base.js': 'layout-base/layout-base.js',
  '/vendor/cose-base.js': 'cose-base/cose-base.js',
  '/vendor/cytoscape-fcose.js': 'cytoscape-fcose/cytoscape-fcose.js',
};
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

export interface AdminServerOptions {
  port?: number;
  host?: string;
  /** a WebSocket client whose unsent data exceeds this is closed (slow consumer) */
  maxClientBuffer?: number;
  /** the graph's figures are pushed to /feed clients at least this often (ms, default 1000); a change of its shape or of a state at once */
  feedIntervalMs?: number;
  collector?: CollectorOptions;
}

export interface AdminServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function startAdminServer(sources: AdminSources, opts: AdminServerOptions = {}): Promise<AdminServer> {
  /** the dashboard's own files, read once per server (they ship with the build) */
  const pageCache = new Map<string, Buffer>();
  /** the graph library, read and gzipped once per server (cytoscape.min.js: 443 KB, 139 KB gzipped) */
  const vendorCache = new Map<string, { raw: Buffer; gz: Buffer }>();
  const maxBuffer = opts.maxClientBuffer ?? 1 << 20;
  const clusterGauge = metric(sources.registry, 'meshfed_admin_clusters', (registers) =>
    new Gauge({ name: 'meshfed_admin_clusters', help: 'member clusters by state', labelNames: ['state'], registers }));
  const servicesGauge = metric(sources.registry, 'meshfed_admin_services', (registers) =>
    new Gauge({ name: 'meshfed_admin_services', help: 'services in the merged registry', registers }));
  const wsGauge = metric(sources.registry, 'meshfed_admin_event_clients', (registers) =>
    new Gauge({ name: 'meshfed_admin_event_clients', help: 'connected /events WebSocket clients', registers }));

  const json = (res: http.ServerResponse, code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body, null, 2));
  };
  const text = (res: http.ServerResponse, code: number, body: string) => {
    res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(body.endsWith('\n') ? body : body + '\n');
  };

  // edge figures: the proxies are scraped in bounded rounds (src/admin/collector.ts), never once per HTTP request
  const targets = (): readonly { name: string; url: string }[] => sources.scrapeTargets?.() ?? [];
  // denied requests reach the event stream through the same scrapes, rate-limited (denials.ts)
  const collector = new TrafficCollector(targets, opts.collector, (e) => sources.events.publish('authz.denied', e.message, { proxy: e.proxy, policy: e.policy, sourcePrincipal: e.source, protocol: e.protocol, count: e.count }));
  const series = new SeriesStore();

  async function traffic(): Promise<unknown> {
    if (targets().length === 0) return { available: false, reason: 'no proxy metrics endpoints configured', byRegion: {} };
    await collector.fresh(collector.periodMs() + 1000); // the feed loop keeps it fresh: a request does not add rounds
    const byRegion = collector.byRegion();
    const available = Object.keys(byRegion).length > 0;
    return { available, at: new Date(collector.stats.lastAt ?? Date.now()).toISOString(), byRegion, errors: collector.stats.errors, ...(available ? {} : { reason: 'no istio_requests_total with source_region/destination_region labels in proxy metrics' }) };
  }

  function graph(now = Date.now()): GraphModel & { metrics: unknown } {
    const w = collector.window(now);
    const model = buildGraph({
      snapshot: sources.snapshot(), clusters: sources.clusters(), proxies: sources.proxies(),
      flows: w.flows, windowSeconds: w.seconds, ejected: collector.ejected(), now,
    });
    const n = targets().length;
    return {
      ...model,
      metrics: n === 0
        ? { available: false, reason: 'no proxy metrics endpoints configured' }
        : { available: true, targets: n, periodMs: collector.stats.periodMs, lastRoundMs: collector.stats.lastRoundMs, lastRoundCpuMs: collector.stats.lastRoundCpuMs, roundCpuMs: Math.round(collector.roundCpuMs(n)), rounds: collector.stats.rounds, errors: collector.stats.errors.length, firstError: collector.stats.errors[0] },
    };
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'only GET is supported');
    switch (url.pathname) {
      case '/favicon.ico':
        res.writeHead(204).end();
        return;
      case '/healthz':
        return text(res, 200, 'ok');
      case '/readyz': {
        const r = sources.ready();
        return r.ready ? text(res, 200, 'ready') : text(res, 503, `not ready: waiting for ${r.reasons.join('; ') || 'unknown'}`);
      }
      case '/metrics': {
        const clusters = sources.clusters();
        clusterGauge.reset();
        for (const s of ['connected', 'syncing', 'unreachable', 'error']) clusterGauge.set({ state: s }, clusters.filter((c) => c.state === s).length);
        servicesGauge.set(sources.snapshot().services.size);
        res.writeHead(200, { 'content-type': sources.registry.contentType });
        res.end(await sources.registry.metrics());
        return;
      }
      case '/debug/registry':
        return json(res, 200, registryView(sources.snapshot()));
      case '/debug/syncz':
        return json(res, 200, sources.proxies());
      case '/debug/clusters':
        return json(res, 200, sources.clusters());
      case '/debug/leader':
        return json(res, 200, sources.leadership?.() ?? { enabled: false });
      case '/debug/topology':
        return json(res, 200, topologyView(sources.snapshot(), sources.clusters()));
      case '/debug/traffic':
        return json(res, 200, await traffic());
      case '/debug/graph':
        return json(res, 200, graph());
      case '/debug/series': {
        const id = url.searchParams.get('id');
        if (!id) return text(res, 400, 'missing ?id=<graph node or edge id>; see /debug/graph for ids');
        return json(res, 200, { id, points: series.get(id, Date.now()) });
      }
      case '/debug/config_dump': {
        const node = url.searchParams.get('node');
        if (!node) return text(res, 400, 'missing ?node=<proxy node id>; see /debug/syncz for connected nodes');
        const dump = sources.configDump(node);
        if (dump === undefined) return text(res, 404, `unknown proxy node ${JSON.stringify(node)}: not connected; see /debug/syncz for connected nodes`);
        return json(res, 200, dump);
      }
    }
    const vendor = VENDOR[url.pathname];
    if (vendor) {
      let body = vendorCache.get(vendor);
      if (!body) { const raw = await readFile(vendorRequire.resolve(vendor)); vendorCache.set(vendor, (body = { raw, gz: gzipSync(raw) })); }
      const gz = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      res.writeHead(200, { 'content-type': TYPES.js!, 'cache-control': 'max-age=3600', vary: 'accept-encoding', ...(gz ? { 'content-encoding': 'gzip' } : {}) });
      res.end(gz ? body.gz : body.raw);
      return;
    }
    const file = STATIC[url.pathname];
    if (file) {
      let body = pageCache.get(file);
      if (!body) pageCache.set(file, (body = await readFile(dashboardFile(file))));
      res.writeHead(200, { 'content-type': TYPES[file.split('.').pop()!] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
      res.end(body);
      return;
    }
    return text(res, 404, `no such admin endpoint ${url.pathname}; try /healthz /readyz /metrics /debug/registry /debug/syncz /debug/clusters /debug/leader /debug/config_dump?node=… /debug/traffic /debug/graph /debug/series?id=… /events /feed`);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      log.error({ err: e, path: req.url }, 'admin request failed');
      if (!res.headersSent) text(res, 500, `internal error serving ${req.url}: ${(e as Error).message}`);
      else res.destroy();
    });
  });

  const wss = new WebSocketServer({ noServer: true });
  const clients = new Set<WebSocket>();
  const send = (ws: WebSocket, ev: MeshEvent) => {
    if (ws.bufferedAmount > maxBuffer) {
      log.warn({ buffered: ws.bufferedAmount }, 'closing slow /events client');
      ws.terminate();
      return;
    }
    ws.send(JSON.stringify(ev));
  };
  // /feed: the graph model (nodes, edges with rates), pushed when it changes and at least every feedIntervalMs
  const feed = new GraphFeed(collector, graph, series, () => targets().length > 0, { intervalMs: opts.feedIntervalMs ?? 1000, maxClientBuffer: maxBuffer });

  server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://admin').pathname;
    if (path === '/feed') {
      wss.handleUpgrade(req, socket, head, (ws) => feed.add(ws));
      return;
    }
    if (path !== '/events') {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      wsGauge.set(clients.size);
      for (const ev of sources.events.history()) send(ws, ev);
      ws.on('close', () => { clients.delete(ws); wsGauge.set(clients.size); });
      ws.on('error', () => ws.terminate());
    });
  });
  const unsubscribe = sources.events.subscribe((ev) => { for (const ws of clients) send(ws, ev); feed.onEvent(ev); });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 15014, opts.host ?? '127.0.0.1', () => resolve());
  });
  feed.start();
  const port = (server.address() as AddressInfo).port;
  const host = opts.host ?? '127.0.0.1';
  log.info({ port }, 'admin server listening');
  return {
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: async () => {
      unsubscribe();
      feed.close();
      collector.close();
      for (const ws of clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
