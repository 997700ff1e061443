import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { harness, statusOf, type Harness } from './harness.ts';

let h: Harness;
before(async () => { h = await harness(); });
after(async () => { await h.server.close(); });

const crd = {
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.meshfed.io' },
  spec: {
    group: 'example.meshfed.io', scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wd'] },
    versions: [
      { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
      { name: 'v1beta1', served: true, storage: false, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
    ],
  },
};

test('a CRD makes its custom resources served for every version and visible in discovery', async () => {
  const before = await h.raw('GET', '/apis/example.meshfed.io/v1/namespaces/default/widgets');
  assert.equal(before.status, 404);
  const ext = h.kc.makeApiClient(k8s.ApiextensionsV1Api);
  const made = await ext.createCustomResourceDefinition({ body: crd as k8s.V1CustomResourceDefinition });
  assert.equal(made.status!.conditions!.find((c) => c.type === 'Established')!.status, 'True');
  const disc = await h.raw('GET', '/apis/example.meshfed.io/v1');
  assert.deepEqual(disc.json.resources.map((r: any) => [r.name, r.kind, r.namespaced, r.shortNames]), [['widgets', 'Widget', true, ['wd']]]);
  const groups = (await h.raw('GET', '/apis')).json.groups.find((g: any) => g.name === 'example.meshfed.io');
  assert.deepEqual(groups.versions.map((v: any) => v.version).sort(), ['v1', 'v1beta1']);
  const custom = h.kc.makeApiClient(k8s.CustomObjectsApi);
  await custom.createNamespacedCustomObject({ group: 'example.meshfed.io', version: 'v1', namespace: 'default', plural: 'widgets', body: { apiVersion: 'example.meshfed.io/v1', kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 3 } } });
  const viaBeta = await custom.getNamespacedCustomObject({ group: 'example.meshfed.io', version: 'v1beta1', namespace: 'default', plural: 'widgets', name: 'w1' }) as any;
  assert.equal(viaBeta.spec.size, 3);
  assert.equal(viaBeta.apiVersion, 'example.meshfed.io/v1beta1');
  const list = await custom.listNamespacedCustomObject({ group: 'example.meshfed.io', version: 'v1', namespace: 'default', plural: 'widgets' }) as any;
  assert.equal(list.kind, 'WidgetList');
  assert.deepEqual(list.items.map((i: any) => i.metadata.name), ['w1']);
  const wrongKind = await statusOf(custom.createNamespacedCustomObject({ group: 'example.meshfed.io', version: 'v1', namespace: 'default', plural: 'widgets', body: { apiVersion: 'example.meshfed.io/v1', kind: 'Gadget', metadata: { name: 'w2' } } }));
  assert.equal(wrongKind.code, 400);
  // deleting the CRD removes the resources and the endpoint
  await ext.deleteCustomResourceDefinition({ name: 'widgets.example.meshfed.io' });
  assert.equal((await h.raw('GET', '/apis/example.meshfed.io/v1/namespaces/default/widgets')).status, 404);
  assert.equal((await h.raw('GET', '/apis')).json.groups.some((g: any) => g.name === 'example.meshfed.io'), false);
});

test('a CRD with a name that is not <plural>.<group> is rejected with causes', async () => {
  const bad = await h.raw('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { ...crd, metadata: { name: 'wrong.example.io' } });
  assert.equal(bad.status, 422);
  assert.equal(bad.json.details.causes[0].field, 'metadata.name');
});
