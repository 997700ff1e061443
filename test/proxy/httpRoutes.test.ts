// The sidecar's reading of RDS/CDS: resources made by the real policy translator, encoded and decoded as on the
// wire, compiled into routes and cluster policies, then applied to requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRouteConfig, pickDestination, selectRoute, shouldRetry, editHeaders, sampled, routeTable } from '../../src/proxy/httpRoutes.ts';
import { compileClusterPolicy, admits, isOutlierFailure, clusterPolicies } from '../../src/proxy/clusterPolicy.ts';
import { route, recordOutcome, pickLocality, type OutlierState } from '../../src/proxy/routing.ts';
import { routeResource, translate } from '../../src/pilot/translate.ts';
import { compilePolicy } from '../../src/pilot/policy.ts';
import { packAny, unpackAny, TYPE_URL } from '../../src/xds/protos.ts';
import { gatewaySni } from '../../src/mesh/names.ts';
import { emptySnapshot } from '../../src/mesh/types.ts';
import type { DestinationRule, VirtualService } from '../../src/policy/types.ts';
import type { ProxyNode } from '../../src/pilot/node.ts';

const HOST = 'reviews.demo.svc.cluster.local';
const vs: VirtualService = {
  kind: 'VirtualService', metadata: { namespace: 'demo', name: 'reviews', generation: 1 },
  spec: {
    hosts: [HOST],
    http: [
      { name: 'canary', match: [{ headers: { 'X-Canary': { exact: 'yes' } } }], route: [{ destination: { host: HOST, subset: 'v2' } }], headers: { request: { set: { 'x-route': 'canary' }, add: { 'x-tag': 'b' }, remove: ['x-drop'] } } },
      { name: 'abort', match: [{ uri: { prefix: '/abort' } }], fault: { abort: { httpStatus: 418, percentage: { value: 100 } } }, route: [{ destination: { host: HOST, subset: 'v1' } }] },
      { name: 'regex', match: [{ uri: { regex: '/items/[0-9]+' }, method: { exact: 'DELETE' } }], route: [{ destination: { host: HOST, subset: 'v1' } }], timeout: '1.5s', retries: { attempts: 4, perTryTimeout: '250ms', retryOn: '5xx,reset' } },
      { name: 'split', route: [{ destination: { host: HOST, subset: 'v1' }, weight: 90 }, { destination: { host: HOST, subset: 'v2' }, weight: 10 }] },
    ],
  },
};
const dr: DestinationRule = {
  kind: 'DestinationRule', metadata: { namespace: 'demo', name: 'reviews', generation: 1 },
  spec: {
    host: HOST,
    trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: 'x-user' } }, connectionPool: { tcp: { maxConnections: 2 }, http: { http1MaxPendingRequests: 3, maxRequestsPerConnection: 10 } }, outlierDetection: { consecutive5xxErrors: 2, baseEjectionTime: '10s', maxEjectionPercent: 50 } },
    subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' }, trafficPolicy: { loadBalancer: { simple: 'RANDOM' }, outlierDetection: { consecutiveGatewayErrors: 3 } } }],
  },
} as DestinationRule;
const policy = compilePolicy({ virtualServices: [vs], destinationRules: [dr] });
const wire = <T extends object>(type: string, o: T): Record<string, unknown> => unpackAny(packAny(type, o));
const routes = compileRouteConfig(wire(TYPE_URL.route, routeResource(`${HOST}:9080`, HOST, 9080, policy)));
const sni = (subset: string) => gatewaySni(HOST, 9080, subset);

test('RDS from a VirtualService: header, prefix, regex+method matches in order; the catch-all split', () => {
  const pick = (method: string, path: string, headers: Record<string, string> = {}) => selectRoute(routes, { method, path, headers })?.name;
  assert.equal(pick('GET', '/x', { 'x-canary': 'yes' }), 'demo/reviews/canary/0');
  assert.equal(pick('GET', '/x', { 'x-canary': 'no' }), 'demo/reviews/split/0');
  assert.equal(pick('GET', '/abort/now'), 'demo/reviews/abort/0');
  assert.equal(pick('DELETE', '/items/42'), 'demo/reviews/regex/0');
  assert.equal(pick('DELETE', '/items/42?force=1'), 'demo/reviews/regex/0', 'regex matches the path without its query');
  assert.equal(pick('GET', '/items/42'), 'demo/reviews/split/0', 'method must match');
  assert.equal(pick('DELETE', '/items/42x'), 'demo/reviews/split/0', 'regex must match the whole path');
});

test('RDS: weights, subsets as SNIs, retry policy, timeouts, fault, header edits survive the wire', () => {
  const split = routes.find((r) => r.name === 'demo/reviews/split/0')!;
  assert.deepEqual(split.destinations, [{ sni: sni('v1'), weight: 90 }, { sni: sni('v2'), weight: 10 }]);
  assert.equal(pickDestination(split.destinations, 0.0).sni, sni('v1'));
  assert.equal(pickDestination(split.destinations, 0.899).sni, sni('v1'));
  assert.equal(pickDestination(split.destinations, 0.9).sni, sni('v2'));
  assert.equal(pickDestination(split.destinations, 0.9999).sni, sni('v2'));
  const rx = routes.find((r) => r.name === 'demo/reviews/regex/0')!;
  assert.equal(rx.timeoutMs, 1500);
  assert.equal(rx.retry?.retries, 4);
  assert.equal(rx.retry?.perTryTimeoutMs, 250);
  assert.deepEqual([...rx.retry!.retryOn], ['5xx', 'reset']);
  assert.equal(split.hashHeader, 'x-user');
  const ab = routes.find((r) => r.name === 'demo/reviews/abort/0')!;
  assert.deepEqual(ab.fault, { delayPercent: 0, abortPercent: 100, abortStatus: 418 });
  const can = routes.find((r) => r.name === 'demo/reviews/canary/0')!;
  const h: Record<string, string | string[] | number | undefined> = { 'x-drop': '1', 'x-route': 'old', 'x-tag': 'a' };
  editHeaders(h, can);
  assert.deepEqual(h, { 'x-route': 'canary', 'x-tag': ['a', 'b'] });
});

test('RDS without a VirtualService: one catch-all route to the default cluster', () => {
  const r = compileRouteConfig(wire(TYPE_URL.route, routeResource(`${HOST}:9080`, HOST, 9080)));
  assert.equal(r.length, 1);
  assert.equal(selectRoute(r, { method: 'POST', path: '/anything', headers: {} })?.destinations[0]?.sni, sni(''));
});

test('a RouteConfiguration the sidecar cannot honor throws (the xDS client NACKs it)', () => {
  assert.throws(() => compileRouteConfig({ name: 'x', virtual_hosts: [{ routes: [{ match: { prefix: '/' }, route: { cluster_header: 'x-cluster' } }] }] }), /only cluster and weighted_clusters/);
  assert.throws(() => compileRouteConfig({ name: 'x', virtual_hosts: [{ routes: [{ match: { prefix: '/' }, route: { cluster: 'not-a-cluster' } }] }] }), /not outbound/);
  assert.throws(() => routeTable([{ name: 'x', virtual_hosts: [{ routes: [{ match: { safe_regex: { regex: '(' } }, route: { cluster: `outbound|80||${HOST}` } }] }] }]), /bad regex/);
});

test('retry_on conditions for HTTP/1.1 outcomes', () => {
  const on = (s: string) => new Set(s.split(','));
  assert.equal(shouldRetry(on('5xx'), { status: 500 }), true);
  assert.equal(shouldRetry(on('5xx'), { status: 404 }), false);
  assert.equal(shouldRetry(on('gateway-error'), { status: 500 }), false);
  assert.equal(shouldRetry(on('gateway-error'), { status: 503 }), true);
  assert.equal(shouldRetry(on('gateway-error'), { timeout: true }), true);
  assert.equal(shouldRetry(on('connect-failure'), { reset: true }), false);
  assert.equal(shouldRetry(on('reset'), { reset: true }), true);
  assert.equal(shouldRetry(on('retriable-4xx'), { status: 409 }), true);
  assert.equal(shouldRetry(on('retriable-status-codes'), { status: 503 }), true);
  assert.equal(sampled(100, 0.999), true);
  assert.equal(sampled(0, 0), false);
  assert.equal(sampled(25, 0.24), true);
  assert.equal(sampled(25, 0.26), false);
});

test('CDS from a DestinationRule: lb, circuit breakers, outlier detection per subset', () => {
  const snap = emptySnapshot({ services: new Map([['demo/reviews', { namespace: 'demo', name: 'reviews', hostname: HOST, ports: [{ name: 'http', port: 9080, protocol: 'TCP' }], clusters: ['c1'], conflicts: [], endpoints: [] }]]) });
  const node: ProxyNode = { id: 's', role: 'sidecar', cluster: 'c1', network: 'n1', locality: { region: 'r1', zone: 'z1', subZone: '' } };
  const cds = [...translate(snap, node, TYPE_URL.cluster, [], true, policy).resources.values()].map((c) => wire(TYPE_URL.cluster, c));
  const p = clusterPolicies(cds);
  const def = p.get(sni(''))!;
  assert.equal(def.lb, 'RING_HASH');
  assert.equal(def.maxConnections, 2);
  assert.equal(def.maxPendingRequests, 3);
  assert.equal(def.maxRequestsPerConnection, 10);
  assert.deepEqual(def.outlier, { consecutiveFailures: 2, baseEjectionMs: 10_000, maxEjectionMs: 300_000, gatewayErrorsOnly: false, maxEjectionPercent: 50 });
  const v2 = p.get(sni('v2'))!;
  assert.equal(v2.lb, 'RANDOM');
  assert.equal(v2.outlier?.gatewayErrorsOnly, true);
  assert.equal(v2.outlier?.consecutiveFailures, 3);
  assert.equal(isOutlierFailure(v2.outlier!, 500), false);
  assert.equal(isOutlierFailure(v2.outlier!, 502), true);
  assert.equal(isOutlierFailure(def.outlier!, 500), true);
  // the circuit breaker admits maxConnections + maxPendingRequests requests at once
  assert.equal(admits(def, 4), true);
  assert.equal(admits(def, 5), false);
  // pilot's default cluster (no DestinationRule): no limits, its default outlier detection
  const plain = compileClusterPolicy(wire(TYPE_URL.cluster, translate(snap, node, TYPE_URL.cluster, [`outbound|9080||${HOST}`], false).resources.get(`outbound|9080||${HOST}`)!));
  assert.equal(plain.maxConnections, undefined);
  assert.equal(admits(plain, 10_000), true);
  assert.equal(plain.lb, 'ROUND_ROBIN');
});

test('lb choices: round robin cycles, ring hash keeps a key on its endpoint and moves only the keys of a removed one', () => {
  const eps = [1, 2, 3, 4].map((i) => ({ address: `127.0.0.${i}`, port: 80, healthy: true }));
  const t = new Map([[sni(''), eps]]);
  const none = new Map();
  const rr = [0, 1, 2, 3, 4].map((i) => { const d = route(sni(''), t, none, none, 0, new Set(), i, { policy: 'ROUND_ROBIN' }); return d.kind === 'endpoint' ? d.endpoint.address : ''; });
  assert.deepEqual(rr, ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.1']);
  const owner = (key: string, table = t) => { const d = route(sni(''), table, none, none, 0, new Set(), 0, { policy: 'RING_HASH', hashKey: key }); return d.kind === 'endpoint' ? d.endpoint.address : ''; };
  const keys = Array.from({ length: 400 }, (_, i) => `user-${i}`);
  const before = new Map(keys.map((k) => [k, owner(k)]));
  assert.ok(new Set(before.values()).size === 4, 'keys spread over every endpoint');
  for (const k of keys.slice(0, 20)) assert.equal(owner(k), before.get(k), 'same key, same endpoint');
  const without3 = new Map([[sni(''), eps.filter((e) => e.address !== '127.0.0.3')]]);
  for (const k of keys) {
    const now = owner(k, without3);
    if (before.get(k) !== '127.0.0.3') assert.equal(now, before.get(k), `${k} moved although its endpoint stayed`);
  }
});

test('outlier ejection respects mayEject (maxEjectionPercent)', () => {
  const st: OutlierState = new Map();
  const pol = { consecutiveFailures: 2, baseEjectionMs: 1000, maxEjectionMs: 5000 };
  assert.equal(recordOutcome(st, 'a', false, 0, pol, false), false);
  assert.equal(recordOutcome(st, 'a', false, 0, pol, false), false, 'over the threshold but not allowed to eject');
  assert.equal(recordOutcome(st, 'a', false, 0, pol, true), true);
  assert.equal(st.get('a')!.ejectedUntil, 1000);
});

test('locality-weighted pick: a locality by its weight among those with an available endpoint', () => {
  const ep = (a: string, locality: string, localityWeight: number) => ({ address: a, port: 80, healthy: true, locality, localityWeight });
  const level = [ep('1', 'r1/z1/', 20), ep('2', 'r1/z1/', 20), ep('3', 'r2/z1/', 80)];
  assert.deepEqual(pickLocality(level, 0.1).map((e) => e.address), ['1', '2']);
  assert.deepEqual(pickLocality(level, 0.19).map((e) => e.address), ['1', '2']);
  assert.deepEqual(pickLocality(level, 0.21).map((e) => e.address), ['3']);
  assert.deepEqual(pickLocality([ep('1', 'a', 5)], 0.9).map((e) => e.address), ['1']);
});

test('panic: when ejection left no endpoint, an ejected one is used (only when asked, and never an unhealthy one)', () => {
  const eps = [{ address: '127.0.0.1', port: 80, healthy: true }, { address: '127.0.0.2', port: 80, healthy: false }];
  const t = new Map([[sni(''), eps]]);
  const ejected: OutlierState = new Map([['127.0.0.1:80', { consecutiveFailures: 0, ejections: 1, ejectedUntil: 1000 }]]);
  assert.equal(route(sni(''), t, ejected, new Map(), 0).kind, 'no-endpoint');
  const d = route(sni(''), t, ejected, new Map(), 0, new Set(), 0, { policy: 'ROUND_ROBIN', panic: true });
  assert.equal(d.kind === 'endpoint' ? d.endpoint.address : d.kind, '127.0.0.1');
  assert.equal(route(sni(''), t, ejected, new Map(), 0, new Set(['127.0.0.1:80']), 0, { policy: 'ROUND_ROBIN', panic: true }).kind, 'no-endpoint');
});
