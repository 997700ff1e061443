import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptySnapshot, type ClusterStatus, type MeshService } from '../../src/mesh/types.ts';
import { snapshotEvents } from '../../src/federation/snapshotEvents.ts';

const cluster = (name: string, region: string, state: ClusterStatus['state']): ClusterStatus => ({ name, server: '', network: 'n', region, state, since: '', services: 0, endpoints: 0 });
const svc = (ready: boolean[]): MeshService => ({
  namespace: 'demo', name: 'echo', hostname: 'echo.demo.svc.cluster.local', ports: [], clusters: ['a'], conflicts: [],
  endpoints: ready.map((r, i) => ({ cluster: 'a', network: 'n', locality: { region: 'r1', zone: 'z', subZone: '' }, address: `10.0.0.${i}`, ports: {}, ready: r, tlsMode: 'istio', labels: {} })),
});

test('a region whose every cluster is unreachable starts a failover (to the next region); its return ends it', () => {
  const failover = { r1: ['r2'], r2: ['r1'] };
  const up = emptySnapshot({ failover, clusters: [cluster('a', 'r1', 'connected'), cluster('b', 'r1', 'connected'), cluster('c', 'r2', 'connected')] });
  const half = emptySnapshot({ failover, clusters: [cluster('a', 'r1', 'unreachable'), cluster('b', 'r1', 'connected'), cluster('c', 'r2', 'connected')] });
  const down = emptySnapshot({ failover, clusters: [cluster('a', 'r1', 'unreachable'), cluster('b', 'r1', 'unreachable'), cluster('c', 'r2', 'connected')] });
  assert.deepEqual(snapshotEvents(up, half), [], 'one cluster of two is not a region failure');
  const started = snapshotEvents(half, down);
  assert.deepEqual(started.map((e) => [e.kind, e.data]), [['failover.started', { region: 'r1', to: 'r2' }]]);
  assert.deepEqual(snapshotEvents(down, down), []);
  assert.deepEqual(snapshotEvents(down, up).map((e) => [e.kind, e.data]), [['failover.ended', { region: 'r1' }]]);
});

test('service added/removed and endpoint health changes are events; an unchanged service object is not', () => {
  const a = emptySnapshot({ services: new Map([['demo/echo', svc([true, true])]]) });
  const b = emptySnapshot({ services: new Map([['demo/echo', svc([true, false])]]) });
  assert.deepEqual(snapshotEvents(emptySnapshot(), a).map((e) => e.kind), ['service.added']);
  assert.deepEqual(snapshotEvents(a, a).map((e) => e.kind), []);
  const health = snapshotEvents(a, b);
  assert.deepEqual(health.map((e) => [e.kind, e.data.ready, e.data.total]), [['endpoint.health', 1, 2]]);
  assert.deepEqual(snapshotEvents(b, emptySnapshot()).map((e) => e.kind), ['service.removed']);
});
