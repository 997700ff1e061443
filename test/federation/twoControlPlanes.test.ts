// Two control planes in one process (an HA pair, a test running two meshes): each Federation owns its merge cache,
// so neither sees the other's clusters or services, and a stopped one's objects are not kept alive by the other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { standinTls } from '../../src/playground/standinTls.ts';
import { startSecureApiServer } from '../../src/devcluster/secure.ts';
import { adminKubeConfig } from '../../src/devcluster/clientConfig.ts';
import { Federation } from '../../src/federation/federation.ts';
import { MergeCache, mergeClusters } from '../../src/federation/merge.ts';
import { EventBus } from '../../src/observe/events.ts';
import { newRegistry } from '../../src/observe/metrics.ts';
import { ns, svc, view } from './fixtures.ts';
import { eventuallyWithin } from '../helpers/eventually.ts';

const FED = { 'meshfed.io/federation': 'enabled' };
const now = new Date('2026-02-02T00:00:00Z');

const eventually = eventuallyWithin(10_000);

async function collectGarbage(): Promise<void> {
  const { setFlagsFromString } = await import('node:v8');
  const { runInNewContext } = await import('node:vm');
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) { gc(); await new Promise((r) => setImmediate(r)); }
}

test('a control plane that is dropped leaves nothing of its clusters behind in the merge (the other keeps merging)', async () => {
  // two control planes, each with a member cluster named "a" (the same name in two meshes)
  let one: { cache: MergeCache; views: ReturnType<typeof view>[] } | undefined = {
    cache: new MergeCache(), views: [view('a', { namespaces: [ns('shop', FED)], services: [svc('shop', 'cart', [['http', 80]])] })],
  };
  const two = { cache: new MergeCache(), views: [view('a', { namespaces: [ns('web', FED)], services: [svc('web', 'front', [['http', 8080]])] })] };
  const cart = new WeakRef(one.views[0]!.services[0]!);
  const s2 = mergeClusters(two.views, { version: 1, now, cache: two.cache });
  const s1 = mergeClusters(one.views, { version: 1, now, cache: one.cache });
  assert.deepEqual([...s1.services.keys()], ['shop/cart']);
  assert.deepEqual([...s2.services.keys()], ['web/front']);
  // the second keeps merging on top of its own previous snapshot: its unchanged service is reused as it was
  const s2b = mergeClusters(two.views, { version: 2, now, previous: s2, cache: two.cache });
  assert.equal(s2b.services.get('web/front'), s2.services.get('web/front'));
  // the first control plane stops (merging last before it did): its Services must become garbage
  const s1Last = mergeClusters(one.views, { version: 2, now, previous: s1, cache: one.cache });
  assert.equal(s1Last.services.size, 1);
  one = undefined;
  await collectGarbage();
  assert.equal(cart.deref(), undefined, 'a stopped control plane\'s Service is still referenced (module-level merge state)');
  assert.deepEqual([...mergeClusters(two.views, { version: 3, now, previous: s2b, cache: two.cache }).services.keys()], ['web/front']);
});

test('two Federations in one process, each with a member named "a" on its own API server: each sees only its own services', { timeout: 60_000 }, async () => {
  const servers = await Promise.all(['a', 'a'].map((name, i) => startSecureApiServer({ name, serviceCidr: `10.${61 + i}.0.0/16`, tls: standinTls(name) })));
  const kcs = servers.map(adminKubeConfig);
  const feds = kcs.map((kc) => new Federation({ kubeConfig: kc, local: { name: 'a', network: 'n1', region: 'r1' }, registry: newRegistry(), events: new EventBus(), coalesceMs: 5 }));
  try {
    await Promise.all(feds.map((f) => f.start()));
    await Promise.all(feds.map((f) => f.whenSynced(20_000)));
    const [core1, core2] = kcs.map((kc) => kc.makeApiClient(k8s.CoreV1Api)) as [k8s.CoreV1Api, k8s.CoreV1Api];
    await core1.createNamespace({ body: { metadata: { name: 'shop', labels: FED } } });
    await core2.createNamespace({ body: { metadata: { name: 'web', labels: FED } } });
    await core1.createNamespacedService({ namespace: 'shop', body: { metadata: { name: 'cart' }, spec: { ports: [{ name: 'http', port: 80 }] } } });
    await core2.createNamespacedService({ namespace: 'web', body: { metadata: { name: 'front' }, spec: { ports: [{ name: 'http', port: 8080 }] } } });
    await eventually('both services merged', () => feds[0]!.snapshot().services.has('shop/cart') && feds[1]!.snapshot().services.has('web/front'));
    // changes in each, interleaved, so each merge follows a merge of the other control plane
    for (let i = 0; i < 5; i++) {
      await core1.createNamespacedService({ namespace: 'shop', body: { metadata: { name: `s${i}` }, spec: { ports: [{ name: 'http', port: 1000 + i }] } } });
      await core2.createNamespacedService({ namespace: 'web', body: { metadata: { name: `w${i}` }, spec: { ports: [{ name: 'http', port: 2000 + i }] } } });
    }
    await eventually('every change merged', () => feds[0]!.snapshot().services.size === 6 && feds[1]!.snapshot().services.size === 6);
    assert.deepEqual([...feds[0]!.snapshot().services.keys()], ['shop/cart', 'shop/s0', 'shop/s1', 'shop/s2', 'shop/s3', 'shop/s4']);
    assert.deepEqual([...feds[1]!.snapshot().services.keys()], ['web/front', 'web/w0', 'web/w1', 'web/w2', 'web/w3', 'web/w4']);
    assert.deepEqual(feds.map((f) => f.snapshot().clusters.map((c) => [c.name, c.services])), [[['a', 6]], [['a', 6]]]);
    // one stops; the other goes on merging its own changes
    await feds[1]!.stop();
    await core1.deleteNamespacedService({ name: 's0', namespace: 'shop' });
    await eventually('the deletion merged', () => !feds[0]!.snapshot().services.has('shop/s0'));
    assert.equal(feds[0]!.snapshot().services.size, 5);
  } finally {
    await Promise.all(feds.map((f) => f.stop()));
    await Promise.all(servers.map((s) => s.close()));
  }
});
