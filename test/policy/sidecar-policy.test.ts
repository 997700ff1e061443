// Traffic policy through meshfed's own sidecar (HTTP/1.1): VirtualServices and DestinationRules compiled by pilot,
// served over xDS to a sidecar whose app calls `reviews` through it. v1 runs on the client's network (reached
// sidecar to sidecar); v2 runs on another network (reached through that network's east-west gateway, which gets
// the subset clusters from pilot too). Every answer names the endpoint that produced it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { emptySnapshot, type Endpoint } from '../../src/mesh/types.ts';
import { Pilot } from '../../src/pilot/server.ts';
import { compilePolicy } from '../../src/pilot/policy.ts';
import { qualifyPolicy } from '../../src/policy/normalize.ts';
import type { DestinationRule, VirtualService } from '../../src/policy/types.ts';
import { startInbound, type Inbound } from '../../src/proxy/sidecarInbound.ts';
import { Outbound } from '../../src/proxy/sidecarOutbound.ts';
import { Gateway } from '../../src/proxy/gateway.ts';
import { XdsClient } from '../../src/xds/adsClient.ts';
import { wireSidecarXds } from '../../src/proxy/sidecarXds.ts';
import { wireGatewayXds } from '../../src/proxy/gatewayXds.ts';
import { newRegistry } from '../../src/observe/metrics.ts';
import { createLogger } from '../../src/log.ts';
import { spiffeId } from '../../src/mesh/names.ts';
import { meshCa } from '../helpers/tlsCerts.ts';

const HOST = 'reviews.demo.svc.cluster.local';
const PORT = 9080;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = createLogger('t');
const ca = meshCa();
const certClient = ca.leaf(spiffeId('cluster.local', 'demo', 'productpage'));
const certServer = ca.leaf(spiffeId('cluster.local', 'demo', 'reviews'));

interface App { name: string; server: http.Server; hits: number; inbound: Inbound }

/** An app that answers with its name; `/slow?ms=N` waits N ms; a `broken` app answers 500 to everything. */
async function app(name: string, broken = false): Promise<App> {
  const a = { name, hits: 0 } as App;
  a.server = http.createServer((req, res) => {
    a.hits++;
    const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? 0);
    setTimeout(() => {
      if (broken) { res.writeHead(500).end(JSON.stringify({ name })); return; }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ name, headers: req.headers }));
    }, ms);
  });
  await new Promise<void>((r) => a.server.listen(0, '127.0.0.1', r));
  a.inbound = await startInbound({ host: '127.0.0.1', port: 0, appPort: (a.server.address() as AddressInfo).port, ownId: spiffeId('cluster.local', 'demo', 'reviews'), trustDomain: 'cluster.local', destinationService: HOST, tls: { ...certServer, ca: ca.root }, registry: newRegistry(), log });
  return a;
}

interface Answer { status: number; name?: string; headers: http.IncomingHttpHeaders; body: string; ms: number }
function call(proxyPort: number, path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, method: opts.method ?? 'GET', path: `http://reviews.demo:${PORT}${path}`, headers: opts.headers ?? {}, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        let name: string | undefined;
        try { name = (JSON.parse(body) as { name?: string }).name; } catch { /* a sidecar's text answer */ }
        resolve({ status: res.statusCode ?? 0, ...(name ? { name } : {}), headers: res.headers, body, ms: Date.now() - t0 });
      });
    });
    req.on('error', reject);
    req.end();
  });
}
const tally = (as: Answer[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const a of as) { const k = a.status === 200 ? a.name! : String(a.status); out[k] = (out[k] ?? 0) + 1; }
  return out;
};

test('VirtualService/DestinationRule through pilot to the meshfed sidecar: split, header routing, faults, retries, timeouts, circuit breaker, outlier ejection, subsets across networks', { timeout: 180_000 }, async () => {
  const v1 = await app('v1');
  const v1b = await app('v1b');
  const v2 = await app('v2');
  const broken = await app('broken', true);
  const gateway = new Gateway({ host: '127.0.0.1', port: 0, registry: newRegistry(), log });
  const gwPort = await gateway.listen();
  const ep = (a: App, network: string, labels: Record<string, string>): Endpoint => ({
    cluster: network === 'n1' ? 'c1' : 'c2', network, locality: { region: network === 'n1' ? 'r1' : 'r2', zone: 'z1', subZone: '' },
    address: '127.0.0.1', ports: { http: 9080 }, inboundPort: a.inbound.port, ready: true, tlsMode: 'istio', labels: { app: 'reviews', ...labels },
  });
  const snapshot = emptySnapshot({
    version: 1,
    gateways: [{ network: 'n2', region: 'r2', cluster: 'c2', address: '127.0.0.1', port: gwPort }],
    failover: { r1: ['r2'], r2: ['r1'] },
    services: new Map([['demo/reviews', { namespace: 'demo', name: 'reviews', hostname: HOST, ports: [{ name: 'http', port: PORT, protocol: 'TCP' }], clusters: ['c1', 'c2'], conflicts: [],
      endpoints: [ep(v1, 'n1', { version: 'v1' }), ep(v1b, 'n1', { version: 'v1b', pool: 'mixed' }), ep(broken, 'n1', { version: 'broken', pool: 'mixed' }), ep(v2, 'n2', { version: 'v2' })] }]]),
  });
  const pilot = new Pilot({ port: 0, host: '127.0.0.1', debounceMs: 5 });
  pilot.setSnapshot(snapshot);
  await pilot.start();
  const gwXds = new XdsClient(`127.0.0.1:${pilot.port}`, { id: 'gw-n2', role: 'gateway', clusterId: 'c2', network: 'n2', locality: { region: 'r2' } }, log);
  wireGatewayXds(gwXds, (t) => gateway.setEndpoints(t));
  const registry = newRegistry();
  const out = new Outbound({ host: '127.0.0.1', port: 0, namespace: 'demo', sourceWorkload: 'productpage', sourceCluster: 'c1', sourceRegion: 'r1', trustDomain: 'cluster.local', tls: { ...certClient, ca: ca.root }, registry, log });
  const proxy = await out.listen();
  const xds = new XdsClient(`127.0.0.1:${pilot.port}`, { id: 'sidecar-productpage', role: 'sidecar', clusterId: 'c1', network: 'n1', locality: { region: 'r1', zone: 'z1' }, labels: { app: 'productpage', version: 'v1b' } }, log);
  wireSidecarXds(xds, (t) => out.setEndpoints(t), (routes, clusters) => out.setPolicy(routes, clusters));
  const running = [xds.start(), gwXds.start()];
  /** Both proxies have ACKed what pilot last sent them (two polls in a row). */
  const synced = async (): Promise<void> => {
    await sleep(30);
    let stable = 0;
    for (const end = Date.now() + 15_000; stable < 2 && Date.now() < end; await sleep(50)) {
      const st = pilot.syncStatus().filter((p) => p.nodeId === 'sidecar-productpage' || p.nodeId === 'gw-n2');
      const ok = st.length === 2 && st.every((s) => Object.values(s.types).every((t) => t.versionSent !== '' && t.versionAcked === t.versionSent));
      stable = ok ? stable + 1 : 0;
    }
  };
  const vsOf = (http: VirtualService['spec']['http']): VirtualService => ({ kind: 'VirtualService', metadata: { namespace: 'demo', name: 'reviews', generation: 1 }, spec: { hosts: ['reviews'], http } });
  const drOf = (trafficPolicy: DestinationRule['spec']['trafficPolicy'] = {}, mixedPolicy: DestinationRule['spec']['trafficPolicy'] = undefined): DestinationRule => ({
    kind: 'DestinationRule', metadata: { namespace: 'demo', name: 'reviews', generation: 1 },
    spec: { host: 'reviews', trafficPolicy, subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }, { name: 'mixed', labels: { pool: 'mixed' }, ...(mixedPolicy ? { trafficPolicy: mixedPolicy } : {}) }] },
  } as DestinationRule);
  const apply = async (vs: VirtualService | undefined, dr: DestinationRule = drOf()): Promise<void> => {
    pilot.setPolicy(compilePolicy(qualifyPolicy({ virtualServices: vs ? [vs] : [], destinationRules: [dr] })));
    await synced();
  };
  const to = (subset: string, weight?: number) => ({ destination: { host: 'reviews', subset }, ...(weight !== undefined ? { weight } : {}) });
  const many = async (n: number, path = '/', opts: Parameters<typeof call>[2] = {}, concurrency = 8): Promise<Answer[]> => {
    const res: Answer[] = [];
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => { while (next < n) { next++; res.push(await call(proxy, path, opts)); } }));
    return res;
  };
  try {
    await synced();
    // 90/10 across networks: v1 sidecar to sidecar, v2 through the n2 gateway (subset SNI outbound_.9080_.v2_.reviews…)
    await apply(vsOf([{ route: [to('v1', 90), to('v2', 10)] }]));
    const split = tally(await many(1000));
    console.log(JSON.stringify({ split }));
    assert.equal((split.v1 ?? 0) + (split.v2 ?? 0), 1000, JSON.stringify(split));
    assert.ok((split.v2 ?? 0) >= 60 && (split.v2 ?? 0) <= 140, `v2 got ${split.v2} of 1,000 (90/10 expected within ±4 points)`);

    // header routing (+ request header edits), everything else to v1
    await apply(vsOf([
      { match: [{ headers: { 'x-canary': { exact: 'yes' } } }], route: [to('v2')], headers: { request: { set: { 'x-routed-by': 'canary' }, remove: ['x-secret'] } } },
      { route: [to('v1')] },
    ]));
    const canary = await many(20, '/', { headers: { 'x-canary': 'yes', 'x-secret': 's' } });
    assert.deepEqual(tally(canary), { v2: 20 });
    const seen = (JSON.parse(canary[0]!.body) as { headers: Record<string, string> }).headers;
    assert.equal(seen['x-routed-by'], 'canary');
    assert.equal(seen['x-secret'], undefined);
    assert.deepEqual(tally(await many(20, '/', { headers: { 'x-canary': 'no' } })), { v1: 20 });

    // a VirtualService whose routes match nothing: 404 from the sidecar, the app never sees it
    await apply(vsOf([{ match: [{ uri: { prefix: '/api' } }], route: [to('v1')] }]));
    const hitsBefore = v1.hits;
    const nr = await call(proxy, '/other');
    assert.equal(nr.status, 404);
    assert.match(nr.body, /no route/);
    assert.equal((await call(proxy, '/api/x')).name, 'v1');
    assert.equal(v1.hits, hitsBefore + 1);

    // abort fault at 100%: the configured status, no upstream request
    await apply(vsOf([{ route: [to('v1')], fault: { abort: { httpStatus: 418, percentage: { value: 100 } } } }]));
    const h0 = v1.hits;
    assert.deepEqual(tally(await many(10)), { 418: 10 });
    assert.equal(v1.hits, h0, 'aborted requests never reach the app');

    // delay fault: each answer waits the fixed delay; a route timeout shorter than a slow app → 504
    await apply(vsOf([{ route: [to('v1')], fault: { delay: { fixedDelay: '300ms', percentage: { value: 100 } } } }]));
    const delayed = await many(4, '/', {}, 4);
    assert.deepEqual(tally(delayed), { v1: 4 });
    assert.ok(delayed.every((a) => a.ms >= 295), `delays: ${delayed.map((a) => a.ms).join(', ')} ms`);
    await apply(vsOf([{ route: [to('v1')], timeout: '200ms' }]));
    const slow = await call(proxy, '/slow?ms=1500');
    assert.equal(slow.status, 504, slow.body);
    assert.ok(slow.ms < 1400, `the route timeout answered after ${slow.ms} ms (app takes 1500)`);

    // subset "mixed" = a good v1 endpoint and one answering 500: without retries some fail (500 is not retried by
    // default), with retries (5xx) none do — POST included, as the retry policy says so
    await apply(vsOf([{ route: [to('mixed')] }]));
    const noRetry = tally(await many(40, '/', { method: 'POST' }));
    assert.ok((noRetry['500'] ?? 0) > 0, `without retries the broken endpoint fails some requests: ${JSON.stringify(noRetry)}`);
    await apply(vsOf([{ route: [to('mixed')], retries: { attempts: 3, retryOn: '5xx' } }]));
    assert.deepEqual(tally(await many(40, '/', { method: 'POST' })), { v1b: 40 });

    // per-try timeout: a slow try is abandoned and retried; the app's 1.5 s answers never make it, 504 at the end
    await apply(vsOf([{ route: [to('v1')], retries: { attempts: 2, perTryTimeout: '150ms', retryOn: '5xx' }, timeout: '5s' }]));
    const h1 = v1.hits;
    const perTry = await call(proxy, '/slow?ms=1500');
    assert.equal(perTry.status, 504, perTry.body);
    assert.ok(perTry.ms < 1400, `per-try timeouts ended the request after ${perTry.ms} ms`);
    assert.equal(v1.hits - h1, 3, 'one try and two retries reached the app');

    // outlier detection: the broken endpoint answers 500 twice in a row → ejected; then every request lands on v1b
    await apply(vsOf([{ route: [to('mixed')] }]), drOf({}, { outlierDetection: { consecutive5xxErrors: 2, baseEjectionTime: '30s', maxEjectionPercent: 100 } }));
    const warmup = tally(await many(12, '/', {}, 1));
    assert.ok((warmup['500'] ?? 0) <= 2, `at most 2 failures before ejection: ${JSON.stringify(warmup)}`);
    assert.deepEqual(tally(await many(30)), { v1b: 30 }, 'the ejected endpoint gets no traffic');

    // circuit breaker: 1 connection + 1 pending; 6 concurrent slow requests → 2 served, 4 refused at once
    await apply(vsOf([{ route: [to('v1')] }]), drOf({ connectionPool: { tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1 } } }));
    const burst = await Promise.all(Array.from({ length: 6 }, () => call(proxy, '/slow?ms=400')));
    const t = tally(burst);
    assert.equal(t.v1, 2, JSON.stringify(t));
    assert.equal(t['503'], 4, JSON.stringify(t));
    assert.ok(burst.filter((a) => a.status === 503).every((a) => a.headers['x-envoy-overloaded'] === 'true' && a.ms < 300), 'overflow is refused immediately');
    const metrics = await registry.metrics();
    assert.match(metrics, new RegExp(`meshfed_sidecar_upstream_rq_overflow_total\\{destination_service="${HOST.replaceAll('.', '\\.')}"\\} 4`));
    assert.deepEqual(tally(await many(6, '/', {}, 1)), { v1: 6 }, 'sequential requests pass the breaker');

    // failoverPriority on the `version` label: the sidecar's own labels (node metadata LABELS) pick the endpoints
    // that share its version=v1b first; without the setting, the default cluster spreads over the local endpoints
    // (v1 and v1b; `broken` is still ejected from above, v2 is in the other region)
    await apply(undefined);
    const spread = tally(await many(40));
    assert.ok((spread.v1 ?? 0) > 0 && (spread.v1b ?? 0) > 0, `without failoverPriority requests spread: ${JSON.stringify(spread)}`);
    await apply(undefined, drOf({ loadBalancer: { localityLbSetting: { failoverPriority: ['version'] } } }));
    assert.deepEqual(tally(await many(30)), { v1b: 30 });

    // distribute: clients in r1/z1 send 20 % to their own locality and 80 % to r2 (v2, behind the gateway) —
    // without locality weighting the remote gateway endpoint would get about a third
    await apply(undefined, drOf({ loadBalancer: { localityLbSetting: { distribute: [{ from: 'r1/z1/*', to: { 'r1/z1/*': 20, 'r2/*': 80 } }] } } }));
    const dist = tally(await many(200));
    console.log(JSON.stringify({ distribute: dist }));
    assert.ok((dist.v2 ?? 0) >= 130 && (dist.v2 ?? 0) <= 190, `r2 got ${dist.v2} of 200 (80 % expected): ${JSON.stringify(dist)}`);
  } finally {
    xds.stop(); gwXds.stop();
    await Promise.allSettled(running);
    await out.close();
    await gateway.drain(0);
    await pilot.stop();
    for (const a of [v1, v1b, v2, broken]) { await a.inbound.close(); a.server.closeAllConnections(); a.server.close(); }
  }
});
