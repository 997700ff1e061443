// The control plane's admin HTTP server (15014): health, Prometheus metrics, istiod-like debug JSON,
// a WebSocket event stream at /events and the dashboard at /.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { createLogger } from '../log.ts';
import { packagePath } from '../packagePaths.ts';
import { Gauge, metric } from '../observe/metrics.ts';
import type { MeshEvent } from '../observe/events.ts';
import type { AdminSources } from './sources.ts';
import { registryView, topologyView } from './views.ts';
import { parsePrometheusText, requestsByRegion } from './promtext.ts';

const log = createLogger('admin');
// static files, read from the package (the build bundles code only)
const DASHBOARD_DIR = packagePath('src', 'admin', 'dashboard');
const STATIC: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/app.js': 'app.js',
  '/style.css': 'style.css',
};
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

export interface AdminServerOptions {
  port?: number;
  host?: string;
  /** a WebSocket client whose unsent data exceeds this is closed (slow consumer) */
  maxClientBuffer?: number;
}

export interface AdminServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function startAdminServer(sources: AdminSources, opts: AdminServerOptions = {}): Promise<AdminServer> {
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

  async function traffic(): Promise<unknown> {
    const targets = sources.scrapeTargets?.() ?? [];
    if (targets.length === 0) return { available: false, reason: 'no proxy metrics endpoints configured', byRegion: {} };
    const byRegion: Record<string, number> = {};
    const errors: string[] = [];
    await Promise.all(targets.map(async (t) => {
      try {
        const r = await fetch(t.url, { signal: AbortSignal.timeout(2000) });
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        for (const [k, v] of Object.entries(requestsByRegion(parsePrometheusText(await r.text())))) byRegion[k] = (byRegion[k] ?? 0) + v;
      } catch (e) {
        errors.push(`${t.name} (${t.url}): ${(e as Error).message}`);
      }
    }));
    const available = Object.keys(byRegion).length > 0;
    return { available, at: new Date().toISOString(), byRegion, errors, ...(available ? {} : { reason: 'no istio_requests_total with source_region/destination_region labels in proxy metrics' }) };
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'only GET is supported');
    switch (url.pathname) {
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
      case '/debug/config_dump': {
        const node = url.searchParams.get('node');
        if (!node) return text(res, 400, 'missing ?node=<proxy node id>; see /debug/syncz for connected nodes');
        const dump = sources.configDump(node);
        if (dump === undefined) return text(res, 404, `unknown proxy node ${JSON.stringify(node)}: not connected; see /debug/syncz for connected nodes`);
        return json(res, 200, dump);
      }
    }
    const file = STATIC[url.pathname];
    if (file) {
      const body = await readFile(join(DASHBOARD_DIR, file));
      res.writeHead(200, { 'content-type': TYPES[file.split('.').pop()!] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
      res.end(body);
      return;
    }
    return text(res, 404, `no such admin endpoint ${url.pathname}; try /healthz /readyz /metrics /debug/registry /debug/syncz /debug/clusters /debug/leader /debug/config_dump?node=… /events`);
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
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://admin').pathname !== '/events') {
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
  const unsubscribe = sources.events.subscribe((ev) => { for (const ws of clients) send(ws, ev); });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 15014, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host ?? '127.0.0.1';
  log.info({ port }, 'admin server listening');
  return {
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: async () => {
      unsubscribe();
      for (const ws of clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
