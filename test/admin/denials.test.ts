// Denied requests reach the dashboard's event stream from the sidecars' own metric, read by the admin's scrapes:
// what a sidecar exports is parsed back, differences between scrapes become denials, and a flood of denials becomes
// a bounded number of events that still add up to every denied request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newRegistry } from '../../src/observe/metrics.ts';
import { authzMetrics } from '../../src/proxy/inboundAuthz.ts';
import { parseWanted } from '../../src/admin/traffic.ts';
import { denialDelta, DenialEvents, denialTotals, type Denial } from '../../src/admin/denials.ts';

const SLEEP = 'cluster.local/ns/demo/sa/sleep';

test('a sidecar\'s authz counters, as it exports them, become denials between two scrapes', async () => {
  const registry = newRegistry();
  const m = authzMetrics(registry);
  const scrape = async () => denialTotals(parseWanted(await registry.metrics()));
  m.inc({ decision: 'denied', policy: 'demo/deny-post', source_principal: SLEEP, protocol: 'http' }, 3);
  m.inc({ decision: 'allowed', policy: 'demo/allow', source_principal: SLEEP, protocol: 'http' }, 50);
  const first = await scrape();
  assert.deepEqual([...first.values()], [{ policy: 'demo/deny-post', source: SLEEP, protocol: 'http', count: 3 }]);
  assert.deepEqual(denialDelta(undefined, first), [], 'first sight of a proxy is a baseline');
  m.inc({ decision: 'denied', policy: 'demo/deny-post', source_principal: SLEEP, protocol: 'http' }, 2);
  m.inc({ decision: 'denied', policy: '', source_principal: '', protocol: 'tcp' });
  const second = await scrape();
  assert.deepEqual(denialDelta(first, second), [{ policy: 'demo/deny-post', source: SLEEP, protocol: 'http', count: 2 }, { policy: '', source: '', protocol: 'tcp', count: 1 }]);
  assert.deepEqual(denialDelta(second, second), []);
  // a restarted sidecar starts from 0: what it has counted since is new
  const restarted = new Map([...second].filter(([, d]) => d.policy !== '').map(([k, d]) => [k, { ...d, count: 1 }]));
  assert.deepEqual(denialDelta(second, restarted), [{ policy: 'demo/deny-post', source: SLEEP, protocol: 'http', count: 1 }]);
});

test('a flood of denials becomes at most one event per proxy, policy and caller per interval, counting every request', () => {
  const ev = new DenialEvents({ perKeyMs: 10_000, perRound: 20 });
  const d = (count: number, source = SLEEP): Denial => ({ policy: 'demo/deny-post', source, protocol: 'http', count });
  const round = (at: number, ds: Denial[], proxy = 'east-1/echo-us-east-1a') => ev.round(at, new Map([[proxy, ds]]));
  const first = round(0, [d(1000)]);
  assert.deepEqual(first.map((e) => [e.count, e.message]), [[1000, `east-1/echo-us-east-1a: 1000 requests from ${SLEEP} denied by AuthorizationPolicy demo/deny-post`]]);
  assert.deepEqual(round(1000, [d(500)]), [], 'within the interval: held back');
  assert.deepEqual(round(5000, [d(300)]), []);
  // another proxy or caller is another key
  assert.equal(round(5000, [d(1)], 'east-2/echo-us-east-1c').length, 1);
  assert.deepEqual(round(10_000, []).map((e) => e.count), [800], 'after the interval: what was held back, added up');
  assert.deepEqual(round(20_001, []), [], 'nothing pending, nothing sent');
  // at most perRound events per round; the rest follow in the next rounds
  const many = Array.from({ length: 30 }, (_, i) => d(1, `cluster.local/ns/demo/sa/c${i}`));
  assert.equal(round(30_000, many).length, 20);
  assert.equal(round(31_000, []).length, 10);
  const plain = ev.round(40_000, new Map([['p', [{ policy: '', source: '', protocol: 'tcp', count: 1 }]]]));
  assert.equal(plain[0]!.message, 'p: 1 connection from a plaintext caller denied because no ALLOW policy matched');
});
