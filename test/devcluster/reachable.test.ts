import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness } from './harness.ts';

test('setReachable(false) refuses connections and ends watches; setReachable(true) serves the same objects on the same port', async () => {
  const h = await harness();
  try {
    await h.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'kept' } } });
    const ended = new Promise<void>((resolve) => {
      void h.raw('GET', '/api/v1/namespaces/default/configmaps?watch=true').then(() => resolve(), () => resolve());
    });
    await new Promise((r) => setTimeout(r, 100));
    await h.server.setReachable(false);
    await ended; // the open watch was cut, as a partition would
    await assert.rejects(h.core.listNamespacedConfigMap({ namespace: 'default' }), /ECONNREFUSED/);
    await h.server.setReachable(true);
    const names = (await h.core.listNamespacedConfigMap({ namespace: 'default' })).items.map((c) => c.metadata!.name);
    assert.deepEqual(names, ['kept']);
  } finally {
    await h.server.close();
  }
});

test('close() after setReachable(false) returns at once', async () => {
  const h = await harness();
  await h.server.setReachable(false);
  await h.server.close();
});
