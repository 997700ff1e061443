import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MergeCache, mergeClusters } from '../../src/federation/merge.ts';
import { replicationInput, sameReplicationInput } from '../../src/federation/replicationInput.ts';
import type { ClusterObjects } from '../../src/federation/replicationPlan.ts';
import { ns, slice, svc, view } from './fixtures.ts';

const now = new Date('2026-02-02T00:00:00Z');
const FED = { 'meshfed.io/federation': 'enabled' };

test('replication input: equal after an endpoint change, different after a port, source or list change', () => {
  const namespaces = [ns('demo', FED)];
  const services = [svc('demo', 'echo', [['http', 8080]]), svc('demo', 'web', [['http', 80]])];
  const a = view('a', { namespaces, services, endpointSlices: [slice('demo', 'echo', [['http', 9090]], [{ ip: '10.0.0.1' }])] });
  const objs = (v: typeof a): ClusterObjects[] => [{ cluster: 'a', namespaces: v.namespaces, services: v.services, pods: v.pods }];
  const cache = new MergeCache();
  const s1 = mergeClusters([a], { version: 1, now, cache });
  const in1 = replicationInput(s1, objs(a));
  assert.equal(sameReplicationInput(undefined, in1), false, 'nothing planned yet');

  const a2 = { ...a, endpointSlices: [slice('demo', 'echo', [['http', 9090]], [{ ip: '10.0.0.1', ready: false }, { ip: '10.0.0.2' }])] };
  const s2 = mergeClusters([a2], { version: 2, now, previous: s1, cache });
  assert.notEqual(s2.services.get('demo/echo'), s1.services.get('demo/echo'));
  assert.equal(sameReplicationInput(in1, replicationInput(s2, objs(a2))), true, 'endpoints only: no planning');

  const a3 = { ...a2, services: [svc('demo', 'echo', [['http', 8081]]), services[1]!] };
  const s3 = mergeClusters([a3], { version: 3, now, previous: s2, cache });
  assert.equal(sameReplicationInput(in1, replicationInput(s3, objs(a2))), false, 'a port changed');
  assert.equal(sameReplicationInput(in1, replicationInput(s2, objs(a3))), false, 'the Service list changed');

  const b = view('b', { namespaces: [ns('demo')], services: [svc('demo', 'web', [['http', 80]])] });
  const s4 = mergeClusters([a2, b], { version: 4, now, previous: s2, cache });
  const objs4 = [...objs(a2), { cluster: 'b', namespaces: b.namespaces, services: b.services, pods: b.pods }];
  assert.equal(sameReplicationInput(replicationInput(s2, objs4), replicationInput(s4, objs4)), false, 'web gained a source cluster');
  const s5 = mergeClusters([a2], { version: 5, now: new Date(), previous: s2, cache });
  assert.equal(sameReplicationInput(replicationInput(s2, objs(a2)), replicationInput(s5, objs(a2))), true);
  const gone = mergeClusters([{ ...a2, services: [services[0]!] }], { version: 6, now, previous: s2, cache });
  assert.equal(sameReplicationInput(replicationInput(s2, objs(a2)), replicationInput(gone, objs(a2))), false, 'a service went away');
});
