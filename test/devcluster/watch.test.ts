import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { harness, waitFor, type Harness } from './harness.ts';

let h: Harness;
before(async () => { h = await harness({ bookmarkIntervalMs: 100 }); });
after(async () => { await h.server.close(); });

test('informer lists, watches ADD/UPDATE/DELETE, relists after 410 Gone and survives server-closed watches', async () => {
  await h.core.createNamespace({ body: { metadata: { name: 'inf' } } });
  await h.core.createNamespacedConfigMap({ namespace: 'inf', body: { metadata: { name: 'pre' } } });
  const informer = k8s.makeInformer(h.kc, '/api/v1/namespaces/inf/configmaps', () => h.core.listNamespacedConfigMap({ namespace: 'inf' }));
  const events: string[] = [];
  const errors: unknown[] = [];
  informer.on('add', (o) => events.push(`add:${o.metadata!.name}`));
  informer.on('update', (o) => events.push(`update:${o.metadata!.name}:${o.data?.v ?? ''}`));
  informer.on('delete', (o) => events.push(`delete:${o.metadata!.name}`));
  informer.on('error', (e) => errors.push(e));
  await informer.start();
  try {
    await waitFor(() => events.includes('add:pre'), 'initial list');
    await h.core.createNamespacedConfigMap({ namespace: 'inf', body: { metadata: { name: 'a' } } });
    await waitFor(() => events.includes('add:a'), 'watch ADDED');
    await h.core.patchNamespacedConfigMap({ name: 'a', namespace: 'inf', body: { data: { v: '1' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    await waitFor(() => events.includes('update:a:1'), 'watch MODIFIED');
    await h.core.deleteNamespacedConfigMap({ name: 'pre', namespace: 'inf' });
    await waitFor(() => events.includes('delete:pre'), 'watch DELETED');

    // Server closes every watch; while the informer reconnects, a change lands and history is compacted:
    // its resumed watch gets 410 Gone and it must relist to learn about "b".
    h.server.closeWatches();
    h.server.store.create(h.server.store.info('', 'configmaps'), 'inf', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b' } });
    h.server.store.compact();
    await waitFor(() => events.includes('add:b'), 'relist after 410');
    assert.deepEqual(informer.list('inf').map((o) => o.metadata!.name).sort(), ['a', 'b']);

    // and a plain server-closed watch resumes without losing events
    h.server.closeWatches();
    await h.core.createNamespacedConfigMap({ namespace: 'inf', body: { metadata: { name: 'c' } } });
    await waitFor(() => events.includes('add:c'), 'event after reconnect');
    assert.deepEqual(errors, []);
  } finally {
    await informer.stop();
  }
});

async function watchLines(path: string, until: (lines: any[]) => boolean, ms = 3000): Promise<any[]> {
  const w = new k8s.Watch(h.kc);
  const lines: any[] = [];
  return new Promise((resolve, reject) => {
    let ctl: AbortController | undefined;
    const timer = setTimeout(() => { ctl?.abort(); reject(new Error(`watch ${path} timed out with ${JSON.stringify(lines)}`)); }, ms);
    const check = () => { if (until(lines)) { clearTimeout(timer); ctl?.abort(); resolve(lines); } };
    const [p, q] = path.split('?');
    w.watch(p, Object.fromEntries(new URLSearchParams(q)), (type, object) => { lines.push({ type, object }); check(); }, () => { clearTimeout(timer); resolve(lines); })
      .then((c) => { ctl = c; check(); }, reject);
  });
}

test('watch replays after a resourceVersion, sends bookmarks, honours timeoutSeconds, and answers 410 for compacted history', async () => {
  await h.core.createNamespace({ body: { metadata: { name: 'w' } } });
  const first = await h.core.createNamespacedConfigMap({ namespace: 'w', body: { metadata: { name: 'one', labels: { x: 'y' } } } });
  await h.core.createNamespacedConfigMap({ namespace: 'w', body: { metadata: { name: 'two' } } });
  const replay = await watchLines(`/api/v1/namespaces/w/configmaps?resourceVersion=${first.metadata!.resourceVersion}`, (l) => l.length >= 1);
  assert.deepEqual(replay.map((e) => `${e.type}:${e.object.metadata.name}`), ['ADDED:two']);
  const selected = await watchLines(`/api/v1/namespaces/w/configmaps?labelSelector=x%3Dy`, (l) => l.length >= 1);
  assert.deepEqual(selected.map((e) => e.object.metadata.name), ['one']);
  const bm = await watchLines(`/api/v1/namespaces/w/configmaps?resourceVersion=${h.server.store.currentResourceVersion()}&allowWatchBookmarks=true`, (l) => l.some((e) => e.type === 'BOOKMARK'));
  assert.equal(bm.find((e) => e.type === 'BOOKMARK').object.metadata.resourceVersion, h.server.store.currentResourceVersion());
  const started = Date.now();
  const timed = await watchLines(`/api/v1/namespaces/w/configmaps?resourceVersion=${h.server.store.currentResourceVersion()}&timeoutSeconds=1`, () => false, 5000);
  assert.equal(timed.length, 0);
  assert.ok(Date.now() - started < 4000, 'the server ended the watch after timeoutSeconds');
  const oldRv = first.metadata!.resourceVersion;
  h.server.store.compact();
  await h.core.createNamespacedConfigMap({ namespace: 'w', body: { metadata: { name: 'three' } } });
  const expired = await watchLines(`/api/v1/namespaces/w/configmaps?resourceVersion=${oldRv}`, (l) => l.length >= 1);
  assert.equal(expired[0].type, 'ERROR');
  assert.equal(expired[0].object.code, 410);
  assert.equal(expired[0].object.reason, 'Expired');
});
