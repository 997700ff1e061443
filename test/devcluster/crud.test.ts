import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { harness, statusOf, type Harness } from './harness.ts';

let h: Harness;
before(async () => { h = await harness({ serviceCidr: '10.200.0.0/24' }); });
after(async () => { await h.server.close(); });

test('default namespaces exist and discovery lists core and group resources', async () => {
  const ns = await h.core.listNamespace();
  const names = ns.items.map((n) => n.metadata!.name);
  for (const n of ['default', 'kube-system', 'kube-public']) assert.ok(names.includes(n), n);
  const v1 = await h.raw('GET', '/api/v1');
  const svc = v1.json.resources.find((r: any) => r.name === 'services');
  assert.deepEqual({ kind: svc.kind, namespaced: svc.namespaced, shortNames: svc.shortNames }, { kind: 'Service', namespaced: true, shortNames: ['svc'] });
  const apis = await h.raw('GET', '/apis');
  const groups = apis.json.groups.map((g: any) => g.name);
  for (const g of ['discovery.k8s.io', 'coordination.k8s.io', 'rbac.authorization.k8s.io', 'apiextensions.k8s.io']) assert.ok(groups.includes(g), g);
  const version = await h.raw('GET', '/version');
  assert.equal(version.json.major, '1');
});

test('configmap create/get/update/delete with uid, resourceVersion and 409 on stale update', async () => {
  const created = await h.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'c1', labels: { app: 'a' } }, data: { k: 'v' } } });
  assert.ok(created.metadata!.uid);
  const rv1 = Number(created.metadata!.resourceVersion);
  const got = await h.core.readNamespacedConfigMap({ name: 'c1', namespace: 'default' });
  assert.equal(got.data!.k, 'v');
  got.data!.k = 'v2';
  const upd = await h.core.replaceNamespacedConfigMap({ name: 'c1', namespace: 'default', body: got });
  assert.ok(Number(upd.metadata!.resourceVersion) > rv1);
  assert.equal(upd.metadata!.uid, created.metadata!.uid);
  // stale write: the resourceVersion read before the update
  const stale = await statusOf(h.core.replaceNamespacedConfigMap({ name: 'c1', namespace: 'default', body: { ...got, data: { k: 'lost' } } }));
  assert.equal(stale.code, 409);
  assert.equal(stale.body.reason, 'Conflict');
  assert.equal((await h.core.readNamespacedConfigMap({ name: 'c1', namespace: 'default' })).data!.k, 'v2');
  const dup = await statusOf(h.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'c1' } } }));
  assert.equal(dup.code, 409);
  assert.equal(dup.body.reason, 'AlreadyExists');
  await h.core.deleteNamespacedConfigMap({ name: 'c1', namespace: 'default' });
  const nf = await statusOf(h.core.readNamespacedConfigMap({ name: 'c1', namespace: 'default' }));
  assert.equal(nf.code, 404);
  assert.equal(nf.body.kind, 'Status');
  assert.equal(nf.body.message, 'configmaps "c1" not found');
});

test('generateName, label and field selectors, pagination', async () => {
  await h.core.createNamespace({ body: { metadata: { name: 'sel' } } });
  for (let i = 0; i < 5; i++)
    await h.core.createNamespacedConfigMap({ namespace: 'sel', body: { metadata: { generateName: 'gen-', labels: { idx: String(i), tier: i % 2 ? 'odd' : 'even' } } } });
  const all = await h.core.listNamespacedConfigMap({ namespace: 'sel' });
  assert.equal(all.items.length, 5);
  assert.ok(all.items.every((c) => /^gen-[a-z0-9]{5}$/.test(c.metadata!.name!)));
  assert.equal((await h.core.listNamespacedConfigMap({ namespace: 'sel', labelSelector: 'tier=odd' })).items.length, 2);
  assert.equal((await h.core.listNamespacedConfigMap({ namespace: 'sel', labelSelector: 'tier!=odd' })).items.length, 3);
  assert.equal((await h.core.listNamespacedConfigMap({ namespace: 'sel', labelSelector: 'idx in (0,4,9)' })).items.length, 2);
  assert.equal((await h.core.listNamespacedConfigMap({ namespace: 'sel', labelSelector: 'idx notin (0),tier' })).items.length, 4);
  assert.equal((await h.core.listNamespacedConfigMap({ namespace: 'sel', labelSelector: '!tier' })).items.length, 0);
  const one = all.items[2].metadata!.name!;
  const byName = await h.core.listConfigMapForAllNamespaces({ fieldSelector: `metadata.name=${one}` });
  assert.deepEqual(byName.items.map((c) => c.metadata!.name), [one]);
  const bad = await statusOf(h.core.listNamespacedConfigMap({ namespace: 'sel', labelSelector: 'a in b' }));
  assert.equal(bad.code, 400);
  const seen: string[] = [];
  let cont: string | undefined;
  let pages = 0;
  do {
    const page = await h.core.listNamespacedConfigMap({ namespace: 'sel', limit: 2, _continue: cont });
    seen.push(...page.items.map((c) => c.metadata!.name!));
    cont = page.metadata!._continue;
    pages++;
  } while (cont);
  assert.equal(pages, 3);
  assert.deepEqual([...seen].sort(), all.items.map((c) => c.metadata!.name!).sort());
});

test('services get a ClusterIP from the service CIDR, never a held one; bad ports are 422 with causes', async () => {
  const ips = new Set<string>();
  for (const n of ['s1', 's2', 's3']) {
    const s = await h.core.createNamespacedService({ namespace: 'default', body: { metadata: { name: n }, spec: { ports: [{ port: 80 }] } } });
    assert.match(s.spec!.clusterIP!, /^10\.200\.0\.\d+$/);
    ips.add(s.spec!.clusterIP!);
  }
  assert.equal(ips.size, 3);
  const before = await h.core.listNamespacedService({ namespace: 'default' });
  const bad = await statusOf(h.core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'bad' }, spec: { ports: [{ port: 70000 }] } } }));
  assert.equal(bad.code, 422);
  assert.equal(bad.body.reason, 'Invalid');
  assert.equal(bad.body.details.causes[0].field, 'spec.ports[0].port');
  const after = await h.core.listNamespacedService({ namespace: 'default' });
  assert.equal(after.items.length, before.items.length);
  assert.equal(after.metadata!.resourceVersion, before.metadata!.resourceVersion);
});

test('bad input: malformed JSON/YAML, wrong kind, invalid names, unknown token; nothing stored changes', async () => {
  const rv = (await h.core.listNamespacedConfigMap({ namespace: 'default' })).metadata!.resourceVersion;
  const malformed = await h.raw('POST', '/api/v1/namespaces/default/configmaps', '{"metadata":');
  assert.equal(malformed.status, 400);
  assert.equal(malformed.json.kind, 'Status');
  const yaml = await h.raw('POST', '/api/v1/namespaces/default/configmaps', 'metadata: [unclosed', { 'content-type': 'application/yaml' });
  assert.equal(yaml.status, 400);
  const okYaml = await h.raw('POST', '/api/v1/namespaces/default/configmaps', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  a: "1"\n', { 'content-type': 'application/yaml' });
  assert.equal(okYaml.status, 201);
  await h.core.deleteNamespacedConfigMap({ name: 'from-yaml', namespace: 'default' });
  const rv2 = (await h.core.listNamespacedConfigMap({ namespace: 'default' })).metadata!.resourceVersion;
  const wrongKind = await h.raw('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } });
  assert.equal(wrongKind.status, 400);
  assert.match(wrongKind.json.message, /kind/);
  const badName = await h.raw('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'Bad_Name' } });
  assert.equal(badName.status, 422);
  assert.equal(badName.json.details.causes[0].field, 'metadata.name');
  const noName = await h.raw('POST', '/api/v1/namespaces/default/configmaps', { metadata: {} });
  assert.equal(noName.status, 422);
  const unauth = await h.raw('GET', '/api/v1/namespaces', undefined, { authorization: 'Bearer nope' });
  assert.equal(unauth.status, 401);
  assert.equal(unauth.json.reason, 'Unauthorized');
  const after = (await h.core.listNamespacedConfigMap({ namespace: 'default' })).metadata!.resourceVersion;
  assert.notEqual(rv, rv2); // the YAML create did land
  assert.equal(after, rv2);
});

test('deleting a namespace removes its contents', async () => {
  await h.core.createNamespace({ body: { metadata: { name: 'doomed' } } });
  await h.core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'a' } } });
  await h.core.createNamespacedSecret({ namespace: 'doomed', body: { metadata: { name: 'b' }, stringData: { x: 'y' } } });
  await h.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'survivor' } } });
  await h.core.deleteNamespace({ name: 'doomed' });
  assert.equal((await h.core.listConfigMapForAllNamespaces({ fieldSelector: 'metadata.namespace=doomed' })).items.length, 0);
  assert.equal((await h.core.listSecretForAllNamespaces({ fieldSelector: 'metadata.namespace=doomed' })).items.length, 0);
  assert.equal((await h.core.readNamespacedConfigMap({ name: 'survivor', namespace: 'default' })).metadata!.name, 'survivor');
  const gone = await statusOf(h.core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'late' } } }));
  assert.equal(gone.code, 404);
});
