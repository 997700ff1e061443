// src/kube/informer.ts against the API stand-in: list then watch (with bookmarks and a server-side timeout that it
// follows by re-watching), relist on 410 Gone with the deletions it missed, a hung server (a proxy that accepts and
// never answers, as SIGSTOP does) noticed and resynced when it answers again, and a clean stop while a request hangs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { harness, waitFor } from '../devcluster/harness.ts';
import { kubeconfigFor } from '../../src/devcluster/index.ts';
import { Informer, type InformerEvent, type InformerHealth } from '../../src/kube/informer.ts';
import { freezeProxy } from '../helpers/freezeProxy.ts';

const cm = (name: string, v = '1') => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { v } });

function record(inf: Informer) {
  const seen: string[] = [];
  const health: Array<[InformerEvent, InformerHealth]> = [];
  inf.on('add', (o) => seen.push(`add ${o.metadata?.name}`));
  inf.on('update', (o) => seen.push(`update ${o.metadata?.name}`));
  inf.on('delete', (o) => seen.push(`delete ${o.metadata?.name}`));
  inf.onHealth((e, h) => health.push([e, h]));
  return { seen, health };
}

async function requests(registry: Registry, verb: string): Promise<number> {
  const m = (await registry.getSingleMetric('meshfed_devcluster_requests_total')?.get()) as { values: Array<{ labels: Record<string, string>; value: number }> } | undefined;
  return (m?.values ?? []).filter((v) => v.labels.verb === verb && v.labels.code === '200').reduce((a, v) => a + v.value, 0);
}

test('informer: lists, then follows the watch; asks for bookmarks and a timeout, and re-watches (no relist) when the server ends it', { timeout: 60_000 }, async () => {
  const registry = new Registry();
  const h = await harness({ bookmarkIntervalMs: 100, registry });
  const core = h.core;
  await core.createNamespacedConfigMap({ namespace: 'default', body: cm('a') });
  const inf = new Informer({ kubeConfig: h.kc, path: '/api/v1/namespaces/default/configmaps', timing: { watchTimeoutSeconds: [1, 1] } });
  const r = record(inf);
  try {
    await inf.start();
    assert.ok(inf.health().synced);
    assert.deepEqual(r.seen.filter((s) => s.endsWith(' a')), ['add a']);
    await core.createNamespacedConfigMap({ namespace: 'default', body: cm('b') });
    await core.replaceNamespacedConfigMap({ name: 'a', namespace: 'default', body: cm('a', '2') });
    await core.deleteNamespacedConfigMap({ name: 'b', namespace: 'default' });
    await waitFor(() => r.seen.includes('delete b'), 'the delete of b');
    assert.deepEqual(r.seen.filter((s) => / [ab]$/.test(s)), ['add a', 'add b', 'update a', 'delete b']);
    assert.deepEqual(inf.list().map((o) => o.metadata?.name).filter((n) => n === 'a' || n === 'b'), ['a']);

    // idle: bookmarks (asked for with allowWatchBookmarks) keep the informer's own contact time moving
    const before = inf.health().lastContact!;
    await waitFor(() => inf.health().lastContact! > before + 500, 'contact from bookmarks on an idle watch');
    // the server ends each watch after the timeoutSeconds it was asked for (1 s): the informer watches again from
    // where it was, without listing again and without a failure
    await waitFor(() => false, 'nothing', 2500).catch(() => undefined);
    assert.ok(await requests(registry, 'watch') >= 3, `watches: ${await requests(registry, 'watch')}`);
    assert.equal(await requests(registry, 'list'), 1, 'one list only');
    assert.deepEqual(r.health.map(([e]) => e), ['synced'], 'no failure, no new sync');
    assert.deepEqual(r.seen.filter((s) => / [ab]$/.test(s)), ['add a', 'add b', 'update a', 'delete b'], 'no replayed events');
  } finally {
    await inf.stop();
    await h.server.close();
  }
});

test('informer: after 410 Gone it lists again and reports what was deleted and added while it was away', { timeout: 60_000 }, async () => {
  const h = await harness();
  const info = h.server.store.info('', 'configmaps');
  for (const n of ['a', 'b']) h.server.store.create(info, 'default', cm(n) as never);
  const inf = new Informer({ kubeConfig: h.kc, path: '/api/v1/namespaces/default/configmaps', timing: { minRetryMs: 50, maxRetryMs: 200 } });
  const r = record(inf);
  try {
    await inf.start();
    await h.server.setReachable(false);
    await waitFor(() => r.health.some(([e]) => e === 'failed'), 'the informer to see the server gone');
    // while it is away: b deleted, c added, and the history it would resume from is compacted away
    h.server.store.delete(info, 'default', 'b');
    h.server.store.create(info, 'default', cm('c') as never);
    h.server.store.compact();
    await h.server.setReachable(true);
    await waitFor(() => r.seen.includes('add c') && r.seen.includes('delete b'), 'the relist after 410');
    assert.deepEqual(inf.list().map((o) => o.metadata?.name).filter((n) => ['a', 'b', 'c'].includes(n!)).sort(), ['a', 'c']);
    assert.ok(inf.health().synced);
  } finally {
    await inf.stop();
    await h.server.close();
  }
});

test('informer: a server that accepts connections but never answers is noticed; it resyncs when the server answers again', { timeout: 60_000 }, async (t) => {
  const h = await harness();
  const proxy = await freezeProxy(h.server.port);
  const kc = new k8s.KubeConfig();
  kc.loadFromString(kubeconfigFor([{ ...h.server, url: `https://127.0.0.1:${proxy.port}` }]));
  const inf = new Informer({ kubeConfig: kc, path: '/api/v1/namespaces/default/configmaps', timing: { requestTimeoutMs: 400, listTimeoutMs: 400, minRetryMs: 50, maxRetryMs: 200, liveness: { intervalMs: 200, timeoutMs: 400 } } });
  const r = record(inf);
  try {
    await inf.start();
    assert.ok(inf.health().synced);
    proxy.freeze();
    const frozenAt = Date.now();
    await waitFor(() => !inf.health().synced, 'the hung server to be noticed', 20_000);
    const noticedMs = Date.now() - frozenAt;
    const h1 = inf.health();
    assert.equal(h1.error?.state, 'unreachable');
    assert.match(h1.error!.reason, /did not answer|no answer/);
    // a change while it hangs (made behind the proxy) arrives once it answers again
    await h.core.createNamespacedConfigMap({ namespace: 'default', body: cm('during') });
    await waitFor(() => false, '', 600).catch(() => undefined);
    assert.ok(!r.seen.includes('add during'));
    proxy.thaw();
    await waitFor(() => inf.health().synced && r.seen.includes('add during'), 'resync after the server answers again', 20_000);
    assert.deepEqual(r.health.map(([e]) => e).filter((e, i, a) => e !== a[i - 1]), ['synced', 'failed', 'synced']);
    t.diagnostic(`hung server noticed within ${noticedMs} ms of the freeze (liveness every 200 ms, 400 ms deadline)`);
  } finally {
    await inf.stop();
    await proxy.close();
    await h.server.close();
  }
});

test('informer: stop() ends it while a list hangs on a server that never answers, and nothing is asked after', { timeout: 30_000 }, async () => {
  let conns = 0;
  const sockets: net.Socket[] = [];
  const hole = net.createServer((c) => { conns++; sockets.push(c); c.on('error', () => {}); });
  await new Promise<void>((res) => hole.listen(0, '127.0.0.1', () => res()));
  const port = (hole.address() as net.AddressInfo).port;
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: 'hole', server: `https://127.0.0.1:${port}`, skipTLSVerify: true }], users: [{ name: 'u', token: 't' }], contexts: [{ name: 'c', cluster: 'hole', user: 'u' }], currentContext: 'c' });
  // a minute-long list deadline: only stop() can end the hung first attempt in this test
  const inf = new Informer({ kubeConfig: kc, path: '/api/v1/pods', timing: { listTimeoutMs: 60_000 } });
  try {
    const started = inf.start();
    await waitFor(() => conns > 0, 'the list to connect');
    await inf.stop();
    await started;
    const after = conns;
    await waitFor(() => false, '', 500).catch(() => undefined);
    assert.equal(conns, after, 'no request after stop');
    assert.equal(inf.health().synced, false);
  } finally {
    await new Promise<void>((res) => { hole.close(() => res()); for (const s of sockets) s.destroy(); });
  }
});
