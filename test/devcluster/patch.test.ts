import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { harness, statusOf, type Harness } from './harness.ts';

let h: Harness;
before(async () => { h = await harness(); });
after(async () => { await h.server.close(); });

const as = (strategy: string) => k8s.setHeaderOptions('Content-Type', strategy);

test('JSON merge patch, JSON patch and strategic merge patch on a pod', async () => {
  await h.core.createNamespacedPod({ namespace: 'default', body: {
    metadata: { name: 'p', labels: { a: '1', b: '2' } },
    spec: { containers: [
      { name: 'app', image: 'app:1', ports: [{ containerPort: 80 }], env: [{ name: 'X', value: '1' }, { name: 'Y', value: '2' }] },
      { name: 'side', image: 'side:1' },
    ] },
  } });
  const merged = await h.core.patchNamespacedPod({ name: 'p', namespace: 'default', body: { metadata: { labels: { a: null, c: '3' } } } }, as(k8s.PatchStrategy.MergePatch));
  assert.deepEqual(merged.metadata!.labels, { b: '2', c: '3' });
  const jp = await h.core.patchNamespacedPod({ name: 'p', namespace: 'default', body: [
    { op: 'replace', path: '/spec/containers/1/image', value: 'side:2' },
    { op: 'add', path: '/metadata/annotations', value: { note: 'x' } },
  ] }, as(k8s.PatchStrategy.JsonPatch));
  assert.equal(jp.spec!.containers[1].image, 'side:2');
  assert.equal(jp.metadata!.annotations!.note, 'x');
  const failedTest = await statusOf(h.core.patchNamespacedPod({ name: 'p', namespace: 'default', body: [{ op: 'test', path: '/spec/containers/0/image', value: 'nope' }] }, as(k8s.PatchStrategy.JsonPatch)));
  assert.equal(failedTest.code, 422);
  // strategic: containers merge by name, env by name, ports by containerPort, $patch: delete removes
  const smp = await h.core.patchNamespacedPod({ name: 'p', namespace: 'default', body: { spec: { containers: [
    { name: 'app', image: 'app:2', env: [{ name: 'Y', value: '22' }, { name: 'Z', value: '3' }], ports: [{ containerPort: 443 }] },
    { name: 'side', $patch: 'delete' },
  ] } } }, as(k8s.PatchStrategy.StrategicMergePatch));
  assert.deepEqual(smp.spec!.containers.map((c) => c.name), ['app']);
  const app = smp.spec!.containers[0];
  assert.equal(app.image, 'app:2');
  assert.deepEqual(app.env!.map((e) => `${e.name}=${e.value}`), ['X=1', 'Y=22', 'Z=3']);
  assert.deepEqual(app.ports!.map((p) => p.containerPort), [80, 443]);
  assert.ok(Number(smp.metadata!.generation) > 1, 'spec change bumps generation');
});

test('server-side apply: create, managedFields, conflicting manager 409, force takes ownership', async () => {
  const objApi = k8s.KubernetesObjectApi.makeApiClient(h.kc);
  const cm: k8s.V1ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa', namespace: 'default' }, data: { owned: 'by-a', shared: 'x' } };
  const created = await objApi.patch(cm, undefined, undefined, 'mgr-a', undefined, k8s.PatchStrategy.ServerSideApply);
  const entries = created.metadata!.managedFields!;
  assert.equal(entries.length, 1);
  assert.equal(entries[0].manager, 'mgr-a');
  assert.equal(entries[0].operation, 'Apply');
  assert.deepEqual(Object.keys((entries[0].fieldsV1 as any)['f:data']).sort(), ['f:owned', 'f:shared']);
  // same value from another manager: shared ownership, no conflict
  await objApi.patch({ ...cm, data: { shared: 'x', extra: 'b' } }, undefined, undefined, 'mgr-b', undefined, k8s.PatchStrategy.ServerSideApply);
  const conflict = await statusOf(objApi.patch({ ...cm, data: { owned: 'by-b' } }, undefined, undefined, 'mgr-b', undefined, k8s.PatchStrategy.ServerSideApply));
  assert.equal(conflict.code, 409);
  assert.match(conflict.body.message, /mgr-a/);
  assert.match(conflict.body.message, /\.data\.owned/);
  assert.equal((await h.core.readNamespacedConfigMap({ name: 'ssa', namespace: 'default' })).data!.owned, 'by-a');
  const forced = await objApi.patch({ ...cm, data: { owned: 'by-b', shared: 'x', extra: 'b' } }, undefined, undefined, 'mgr-b', true, k8s.PatchStrategy.ServerSideApply);
  assert.equal(forced.data!.owned, 'by-b');
  const a = forced.metadata!.managedFields!.find((m) => m.manager === 'mgr-a')!;
  assert.ok(!('f:owned' in (a.fieldsV1 as any)['f:data']), 'mgr-a lost ownership of data.owned');
  // a manager dropping a field it alone owned removes it
  const dropped = await objApi.patch({ ...cm, data: { owned: 'by-b', shared: 'x' } }, undefined, undefined, 'mgr-b', undefined, k8s.PatchStrategy.ServerSideApply);
  assert.equal((dropped.data as Record<string, string>).extra, undefined);
  const noManager = await h.raw('PATCH', '/api/v1/namespaces/default/configmaps/ssa', 'data: {a: b}', { 'content-type': 'application/apply-patch+yaml' });
  assert.equal(noManager.status, 422);
});
