import { test } from 'node:test';
import assert from 'node:assert/strict';
import { route, recordOutcome, endEjection, outliersAfterEds, probeTargets, type Endpoint, type OutlierState } from '../../src/proxy/routing.ts';
import { gatewaySni } from '../../src/mesh/names.ts';

const sni = gatewaySni('echo.demo.svc.cluster.local', 8080);
const a: Endpoint = { address: '10.0.0.1', port: 15006, healthy: true };
const b: Endpoint = { address: '10.0.0.2', port: 15006, healthy: true };
const table = new Map([[sni, [a, b]]]);

test('routes a known SNI to an endpoint of that service, and rejects bad or unknown SNI', () => {
  const r = route(sni, table, new Map(), new Map(), 0);
  assert.equal(r.kind, 'endpoint');
  assert.equal(route('example.com', table, new Map(), new Map(), 0).kind, 'bad-sni');
  assert.equal(route(gatewaySni('other.demo.svc.cluster.local', 80), table, new Map(), new Map(), 0).kind, 'unknown-service');
});

test('least-request prefers the idle endpoint; round-robin among ties', () => {
  const r = route(sni, table, new Map(), new Map([['10.0.0.1:15006', 3]]), 0);
  assert.equal(r.kind === 'endpoint' && r.endpoint.address, '10.0.0.2');
  const picks = [0, 1, 2, 3].map((i) => { const d = route(sni, table, new Map(), new Map(), 0, new Set(), i); return d.kind === 'endpoint' ? d.endpoint.address : ''; });
  assert.deepEqual(new Set(picks), new Set(['10.0.0.1', '10.0.0.2']));
});

test('skips unhealthy and already-tried endpoints; no-endpoint when none left', () => {
  const t = new Map([[sni, [{ ...a, healthy: false }, b]]]);
  const r = route(sni, t, new Map(), new Map(), 0);
  assert.equal(r.kind === 'endpoint' && r.endpoint.address, '10.0.0.2');
  assert.equal(route(sni, t, new Map(), new Map(), 0, new Set(['10.0.0.2:15006'])).kind, 'no-endpoint');
});

test('consecutive connect failures eject an endpoint, it returns after the ejection as a probe, a failed probe ejects longer', () => {
  const st: OutlierState = new Map();
  const k = '10.0.0.1:15006';
  assert.equal(recordOutcome(st, k, false, 0), false);
  assert.equal(recordOutcome(st, k, false, 0), false);
  assert.equal(recordOutcome(st, k, false, 0), true);
  for (let i = 0; i < 5; i++) { const r = route(sni, table, st, new Map(), 100, new Set(), i); assert.equal(r.kind === 'endpoint' && r.endpoint.address, '10.0.0.2'); }
  assert.equal(route(sni, table, st, new Map([['10.0.0.2:15006', 9]]), 5000).kind === 'endpoint', true);
  const probe = route(sni, table, st, new Map([['10.0.0.2:15006', 9]]), 5000);
  assert.equal(probe.kind === 'endpoint' && probe.endpoint.address, '10.0.0.1');
  assert.equal(recordOutcome(st, k, false, 5000), true, 'failed probe re-ejects at once');
  assert.equal(st.get(k)!.ejectedUntil, 5000 + 10000);
  recordOutcome(st, k, true, 20000);
  assert.equal(st.has(k), false, 'a successful probe clears the state');
});

test('a probe that succeeds ends a connect ejection at once; the next failure ejects again (flapping); 5xx ejections are not probed', () => {
  const st: OutlierState = new Map();
  const k = '10.0.0.1:15006';
  for (let i = 0; i < 3; i++) recordOutcome(st, k, false, 0);
  recordOutcome(st, '10.0.0.2:15006', false, 0, { consecutiveFailures: 1, baseEjectionMs: 5000, maxEjectionMs: 60000 }, true, 'answer');
  assert.deepEqual(probeTargets(st, 100), [k], 'only the endpoint ejected for connection failures is probed');
  assert.equal(endEjection(st, k, 1000), true);
  const r = route(sni, table, st, new Map(), 1000);
  assert.equal(r.kind === 'endpoint' && r.endpoint.address, '10.0.0.1', 'back in rotation before its 5 s ejection ended');
  assert.equal(recordOutcome(st, k, false, 1100), true, 'one failure right after its return ejects it again');
  assert.equal(st.get(k)!.ejectedUntil, 1100 + 10000);
});

test('EDS: an endpoint pilot newly reports healthy starts fresh; one healthy throughout keeps its ejection', () => {
  const st: OutlierState = new Map([['10.0.0.1:15006', { consecutiveFailures: 0, ejections: 2, ejectedUntil: 9e9, cause: 'connect' }], ['10.0.0.2:15006', { consecutiveFailures: 0, ejections: 1, ejectedUntil: 9e9, cause: 'connect' }]]);
  const before = new Map([[sni, [{ ...a, healthy: false }, b]]]);
  assert.deepEqual(outliersAfterEds(st, before, table), ['10.0.0.1:15006']);
  assert.deepEqual([...st.keys()], ['10.0.0.2:15006']);
  assert.deepEqual(outliersAfterEds(st, table, new Map([[sni, [a]]])), ['10.0.0.2:15006'], 'a removed endpoint is forgotten');
});
