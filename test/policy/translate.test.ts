import assert from 'node:assert/strict';
import { test } from 'node:test';
import { faultFilterConfig, filterBySubset, translateClusters, translateRoutes } from '../../src/policy/translate.ts';
import type { DestinationRule, VirtualService } from '../../src/policy/types.ts';
import { packAny, TYPE_URL, unpackAny } from '../../src/xds/protos.ts';

const HOST = 'echo.demo.svc.cluster.local';

const vs: VirtualService = {
  kind: 'VirtualService',
  metadata: { namespace: 'demo', name: 'echo', generation: 1 },
  spec: {
    hosts: [HOST],
    http: [
      { match: [{ headers: { 'X-Canary': { exact: 'yes' } }, method: { exact: 'POST' } }], route: [{ destination: { host: HOST, subset: 'v2' } }] },
      {
        route: [{ destination: { host: HOST, subset: 'v1' }, weight: 90 }, { destination: { host: HOST, subset: 'v2' }, weight: 10 }],
        retries: { attempts: 3, perTryTimeout: '250ms', retryOn: 'unavailable' },
        timeout: '1.5s',
        fault: { abort: { httpStatus: 503, percentage: { value: 100 } } },
        headers: { request: { set: { 'x-env': 'test' }, remove: ['x-debug'] } },
      },
    ],
  },
};

const dr: DestinationRule = {
  kind: 'DestinationRule',
  metadata: { namespace: 'demo', name: 'echo', generation: 1 },
  spec: {
    host: HOST,
    trafficPolicy: { loadBalancer: { simple: 'LEAST_REQUEST' }, connectionPool: { tcp: { maxConnections: 10 }, http: { http1MaxPendingRequests: 5, maxRequestsPerConnection: 2 } }, outlierDetection: { consecutive5xxErrors: 3, interval: '1s', baseEjectionTime: '30s', maxEjectionPercent: 50 } },
    subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' }, trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: 'x-user' } } } }],
  },
};

test('routes translate to weighted clusters, header/method matches, retries, timeout, fault, headers — and pack as RouteConfiguration', () => {
  const routes = translateRoutes(vs, 8080);
  const rc = unpackAny<{ virtual_hosts: { routes: Record<string, any>[] }[] }>(packAny(TYPE_URL.route, { name: '8080', virtual_hosts: [{ name: HOST, domains: [HOST], routes }] }));
  const [canary, split] = rc.virtual_hosts[0]!.routes;
  assert.equal(canary!.route.cluster, `outbound|8080|v2|${HOST}`);
  const hm = canary!.match.headers.map((h: any) => [h.name, h.string_match.exact]);
  assert.deepEqual(hm, [['x-canary', 'yes'], [':method', 'POST']]);
  assert.deepEqual(split!.route.weighted_clusters.clusters.map((c: any) => [c.name, c.weight.value ?? c.weight]), [[`outbound|8080|v1|${HOST}`, 90], [`outbound|8080|v2|${HOST}`, 10]]);
  assert.equal(split!.route.retry_policy.num_retries.value ?? split!.route.retry_policy.num_retries, 3);
  assert.equal(split!.route.retry_policy.per_try_timeout.nanos, 250_000_000);
  assert.equal(split!.route.timeout.seconds, '1');
  assert.equal(split!.route.timeout.nanos, 500_000_000);
  assert.equal(split!.route.max_stream_duration.max_stream_duration.nanos, 500_000_000, 'gRPC clients read the timeout from max_stream_duration');
  assert.equal(split!.route.max_stream_duration.grpc_timeout_header_max.seconds, '1');
  const fault = unpackAny<any>(split!.typed_per_filter_config['envoy.filters.http.fault']);
  assert.equal(fault.abort.http_status, 503);
  assert.equal(fault.abort.percentage.numerator, 1_000_000);
  assert.deepEqual(split!.request_headers_to_remove, ['x-debug']);
  assert.equal(split!.request_headers_to_add[0].header.key, 'x-env');
});

test('a delay fault becomes fixed_delay with the percentage per million', () => {
  const f = faultFilterConfig({ delay: { fixedDelay: '200ms', percentage: { value: 12.5 } } });
  const back = unpackAny<any>(packAny(TYPE_URL.fault, f));
  assert.equal(back.delay.fixed_delay.nanos, 200_000_000);
  assert.equal(back.delay.percentage.numerator, 125_000);
});

test('clusters carry lb policy, circuit breakers, outlier detection; subsets override; all pack as Cluster', () => {
  const clusters = translateClusters(dr, 8080).map((c) => unpackAny<any>(packAny(TYPE_URL.cluster, c)));
  assert.deepEqual(clusters.map((c) => c.name), [`outbound|8080||${HOST}`, `outbound|8080|v1|${HOST}`, `outbound|8080|v2|${HOST}`]);
  const [all, v1, v2] = clusters;
  assert.equal(all.lb_policy, 'LEAST_REQUEST');
  assert.equal(v1.lb_policy, 'LEAST_REQUEST');
  assert.equal(v2.lb_policy, 'RING_HASH');
  assert.equal(all.circuit_breakers.thresholds[0].max_connections.value, 10);
  assert.equal(all.circuit_breakers.thresholds[0].max_pending_requests.value, 5);
  assert.equal(all.common_http_protocol_options.max_requests_per_connection.value, 2);
  assert.equal(all.outlier_detection.consecutive_5xx.value, 3);
  assert.equal(all.outlier_detection.base_ejection_time.seconds, '30');
  assert.equal(all.outlier_detection.max_ejection_percent.value, 50);
  assert.equal(all.outlier_detection.enforcing_success_rate.value, 0, 'success-rate ejection off, as Istio (grpc-js crashes with it half-configured)');
});

test('ring hash routes hash on the configured header', () => {
  const routes = translateRoutes(vs, 8080, new Map([[HOST, 'X-User']]));
  assert.deepEqual((routes[0]!.route as any).hash_policy, [{ header: { header_name: 'x-user' } }]);
});

test('subset endpoints are those carrying every subset label', () => {
  const eps: { addr: string; labels: Record<string, string> }[] = [{ addr: 'a', labels: { version: 'v1', zone: 'a' } }, { addr: 'b', labels: { version: 'v2' } }, { addr: 'c', labels: {} }];
  assert.deepEqual(filterBySubset(eps, { name: 'v1', labels: { version: 'v1' } }).map((e) => e.addr), ['a']);
});

test('for proxyless gRPC clients LEAST_REQUEST falls back to ROUND_ROBIN (grpc-js-xds 1.14 NACKs it); RING_HASH stays', () => {
  const [all, , v2] = translateClusters(dr, 8080, true);
  assert.equal(all!.lb_policy, 'ROUND_ROBIN');
  assert.equal(v2!.lb_policy, 'RING_HASH');
});
