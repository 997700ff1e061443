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

test('non-apply writes record Update managers; applying over their fields conflicts until forced', async () => {
  await h.core.createNamespacedConfigMap({ namespace: 'default', fieldManager: 'creator', body: { metadata: { name: 'upd', labels: { l: '1' } }, data: { a: '1', b: '2' } } });
  const edited = await h.core.patchNamespacedConfigMap({ name: 'upd', namespace: 'default', fieldManager: 'editor', body: { data: { b: '3' } } }, as(k8s.PatchStrategy.MergePatch));
  const byManager = Object.fromEntries(edited.metadata!.managedFields!.map((m) => [m.manager, { op: m.operation, data: Object.keys((m.fieldsV1 as any)['f:data'] ?? {}).sort() }]));
  assert.deepEqual(byManager, { creator: { op: 'Update', data: ['f:a'] }, editor: { op: 'Update', data: ['f:b'] } });
  const objApi = k8s.KubernetesObjectApi.makeApiClient(h.kc);
  const cfg: k8s.V1ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'upd', namespace: 'default' }, data: { a: '9' } };
  const c = await statusOf(objApi.patch(cfg, undefined, undefined, 'applier', undefined, k8s.PatchStrategy.ServerSideApply));
  assert.equal(c.code, 409);
  assert.match(c.body.message, /conflict with "creator"/);
  const ok = await objApi.patch(cfg, undefined, undefined, 'applier', true, k8s.PatchStrategy.ServerSideApply);
  assert.deepEqual(ok.data, { a: '9', b: '3' });
  assert.deepEqual(ok.metadata!.managedFields!.map((m) => m.manager).sort(), ['applier', 'creator', 'editor']);
});

test('server-side apply prunes as structured-merge-diff does: a list item (Service port) the manager no longer applies and nobody else owns goes; a manager left owning nothing has no entry', async () => {
  const { serverSideApply } = await import('../../src/devcluster/patch.ts');
  const t = '2026-01-01T00:00:00Z';
  const replica = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's7', namespace: 'demo', labels: { 'app.kubernetes.io/managed-by': 'meshfed' } }, spec: { type: 'ClusterIP', ports: [{ port: 9999, protocol: 'TCP', targetPort: 9999 }] } };
  const created = serverSideApply(undefined, replica as never, 'meshfed', false, 'v1', t);
  const user = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's7', namespace: 'demo' }, spec: { selector: { app: 's7' }, ports: [{ name: 'user', port: 8007, protocol: 'TCP' }] } };
  const taken = serverSideApply({ ...created.object, metadata: { ...created.object.metadata, managedFields: created.managedFields } }, user as never, 'kubectl', false, 'v1', t);
  assert.deepEqual((taken.object.spec as { ports: Array<{ port: number }> }).ports.map((p) => p.port), [9999, 8007]);
  const release = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's7', namespace: 'demo' } };
  const released = serverSideApply({ ...taken.object, metadata: { ...taken.object.metadata, managedFields: taken.managedFields } }, release as never, 'meshfed', false, 'v1', t);
  assert.deepEqual(released.object.spec, { selector: { app: 's7' }, ports: [{ name: 'user', port: 8007, protocol: 'TCP' }] });
  assert.equal(released.object.metadata.labels?.['app.kubernetes.io/managed-by'], undefined);
  assert.deepEqual(released.managedFields.map((m) => m.manager), ['kubectl']);
});
