import { test } from 'node:test';
import assert from 'node:assert/strict';
import { route, recordOutcome, type Endpoint, type OutlierState } from '../../src/proxy/routing.ts';
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
