import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeClusters } from '../../src/federation/merge.ts';
import { planReplication, type ClusterObjects } from '../../src/federation/replicationPlan.ts';
import { ns, pod, svc, view } from './fixtures.ts';

const now = new Date('2026-02-02T00:00:00Z');
const MANAGED = { 'app.kubernetes.io/managed-by': 'meshfed' };

function source() {
  return view('a', { namespaces: [ns('demo', { 'meshfed.io/federation': 'enabled' })], services: [svc('demo', 'echo', [['http', 8080]])] });
}
function objs(cluster: string, parts: Partial<Omit<ClusterObjects, 'cluster'>> = {}): ClusterObjects {
  return { cluster, namespaces: parts.namespaces ?? [], services: parts.services ?? [], pods: parts.pods ?? [] };
}

test('a federated Service gets its Namespace and a selectorless replica in every other cluster', () => {
  const a = source();
  const snap = mergeClusters([a, view('b')], { version: 1, now });
  const plan = planReplication(snap, [objs('a', a), objs('b')]);
  assert.deepEqual(plan.map((x) => `${x.op} ${x.cluster}`), ['apply-namespace b', 'apply-service b']);
  const s = plan[1]!;
  assert.ok(s.op === 'apply-service');
  assert.equal(s.body.spec?.selector, undefined);
  assert.equal(s.body.spec?.clusterIP, undefined, 'its own ClusterIP');
  assert.deepEqual(s.body.spec?.ports?.map((p) => p.port), [8080]);
  assert.equal(s.body.metadata?.labels?.['app.kubernetes.io/managed-by'], 'meshfed');
  assert.equal(s.body.metadata?.annotations?.['meshfed.io/source-clusters'], 'a');
});

test('steady state plans zero writes; a changed source updates the replica', () => {
  const a = source();
  const snap = mergeClusters([a, view('b')], { version: 1, now });
  const applied = planReplication(snap, [objs('a', a), objs('b')]);
  const b = objs('b', {
    namespaces: applied.flatMap((x) => (x.op === 'apply-namespace' ? [x.body] : [])),
    services: applied.flatMap((x) => (x.op === 'apply-service' ? [x.body] : [])),
  });
  assert.deepEqual(planReplication(snap, [objs('a', a), b]), []);
  const a2 = view('a', { namespaces: a.namespaces, services: [svc('demo', 'echo', [['http', 8081]])] });
  const plan = planReplication(mergeClusters([a2, view('b')], { version: 2, now }), [objs('a', a2), b]);
  assert.deepEqual(plan.map((x) => `${x.op} ${x.cluster}`), ['apply-service b']);
});

test('a native Service of the same name is never touched', () => {
  const a = source();
  const nativeB = svc('demo', 'echo', [['http', 8080]]);
  const snap = mergeClusters([a, view('b', { namespaces: [ns('demo')], services: [nativeB] })], { version: 1, now });
  assert.deepEqual(snap.services.get('demo/echo')!.clusters, ['a', 'b']);
  assert.deepEqual(planReplication(snap, [objs('a', a), objs('b', { namespaces: [ns('demo')], services: [nativeB] })]), []);
  // even one that is not itself a source (its namespace not federated there doesn't matter): left alone
  const other = svc('demo', 'echo', [['x', 1]]);
  const snapAOnly = mergeClusters([a], { version: 1, now });
  assert.deepEqual(planReplication(snapAOnly, [objs('b', { namespaces: [ns('demo')], services: [other] })]), []);
});

test('GC: replicas go when the last source goes; meshfed Namespaces go only when they hold nothing else', () => {
  const empty = mergeClusters([view('a', { namespaces: [ns('demo', { 'meshfed.io/federation': 'enabled' })] })], { version: 1, now });
  const replica = svc('demo', 'echo', [['http', 8080]], { labels: MANAGED, annotations: { 'meshfed.io/source-clusters': 'a' } });
  const plan = planReplication(empty, [objs('b', { namespaces: [ns('demo', MANAGED)], services: [replica] })]);
  assert.deepEqual(plan.map((x) => x.op), ['delete-service', 'delete-namespace']);
  const withPod = planReplication(empty, [objs('b', { namespaces: [ns('demo', MANAGED)], services: [replica], pods: [pod('demo', 'mine')] })]);
  assert.deepEqual(withPod.map((x) => x.op), ['delete-service'], 'a Namespace holding a user workload stays');
  const userNs = planReplication(empty, [objs('b', { namespaces: [ns('demo')], services: [replica] })]);
  assert.deepEqual(userNs.map((x) => x.op), ['delete-service'], 'a Namespace meshfed did not create stays');
  const native = planReplication(empty, [objs('b', { namespaces: [ns('demo', MANAGED)], services: [svc('demo', 'mine', [['a', 1]])] })]);
  assert.deepEqual(native, [], 'a native Service is never deleted and keeps its Namespace');
  const own = planReplication(empty, [objs('b', { namespaces: [ns('meshfed-system', MANAGED)] })]);
  assert.deepEqual(own, [], "meshfed-system (meshfed's own reader identity lives there) is never garbage-collected");
});

test('a replica someone applied their own Service over (a selector appeared) is theirs: a source, released, never updated or deleted', () => {
  const a = source();
  const taken = { ...svc('demo', 'echo', [['http', 8080], ['admin', 9000]], { labels: { ...MANAGED, app: 'echo' }, annotations: { 'meshfed.io/source-clusters': 'a' } }) };
  taken.spec = { ...taken.spec, selector: { app: 'echo' } };
  const b = view('b', { namespaces: [ns('demo', MANAGED)], services: [taken] });
  const snap = mergeClusters([a, b], { version: 1, now });
  assert.deepEqual([...snap.services.get('demo/echo')!.clusters], ['a', 'b'], 'b is a source now');
  const plan = planReplication(snap, [objs('a', a), objs('b', b)]);
  assert.deepEqual(plan.map((x) => `${x.op} ${x.cluster}`), ['release-service b']);
  // its last other source gone: still not deleted (and the namespace holding it is not garbage)
  const alone = mergeClusters([view('a', { namespaces: a.namespaces }), b], { version: 2, now });
  const plan2 = planReplication(alone, [objs('a', view('a', { namespaces: a.namespaces })), objs('b', b)]);
  assert.ok(!plan2.some((x) => x.cluster === 'b' && x.op.startsWith('delete')), JSON.stringify(plan2));
});

test('a new replica is created only after the second its newest source was created in (so it is strictly younger); updates do not wait', () => {
  const a = view('a', { namespaces: [ns('demo', { 'meshfed.io/federation': 'enabled' })], services: [svc('demo', 'echo', [['http', 8080]], { created: '2026-02-02T10:00:05Z' })] });
  const c = view('c', { namespaces: [ns('demo')], services: [svc('demo', 'echo', [['http', 8080]], { created: '2026-02-02T10:00:07Z' })] });
  const snap = mergeClusters([a, c, view('b')], { version: 1, now });
  const create = planReplication(snap, [objs('a', a), objs('c', c), objs('b')]).find((x) => x.op === 'apply-service')!;
  assert.ok(create.op === 'apply-service');
  assert.equal(create.notBefore, Date.parse('2026-02-02T10:00:08Z'), 'the end of the newest source\'s second');
  // an existing replica whose ports changed is updated at once (its creationTimestamp does not change)
  const stale = svc('demo', 'echo', [['http', 1]], { labels: MANAGED, annotations: { 'meshfed.io/source-clusters': 'a,c' } });
  const update = planReplication(snap, [objs('a', a), objs('c', c), objs('b', { namespaces: [ns('demo', MANAGED)], services: [stale] })]);
  assert.deepEqual(update.map((x) => [x.op, x.cluster, 'notBefore' in x]), [['apply-service', 'b', false]]);
});
