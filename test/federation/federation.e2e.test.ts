// Federation end to end on three API stand-ins: registration with the narrow credentials, discovery, merge,
// replication, the unreachable-cluster rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { startTopologyCluster } from '../../src/playground/clusters.ts';
import { Federation } from '../../src/federation/federation.ts';
import { registerCluster } from '../../src/federation/register.ts';
import { EventBus } from '../../src/observe/events.ts';
import { newRegistry } from '../../src/observe/metrics.ts';
import type { TopologyCluster } from '../../src/mesh/topology.ts';
import { adminKubeConfig } from '../../src/devcluster/clientConfig.ts';
import { eventuallyWithin } from '../helpers/eventually.ts';

const CLUSTERS: TopologyCluster[] = [
  { name: 'a', region: 'r1', zones: ['r1-z1'], network: 'n1', podCIDR: '127.51.0.0/16', serviceCIDR: '10.51.0.0/16' },
  { name: 'b', region: 'r1', zones: ['r1-z2'], network: 'n1', podCIDR: '127.52.0.0/16', serviceCIDR: '10.52.0.0/16' },
  { name: 'c', region: 'r2', zones: ['r2-z1'], network: 'n2', podCIDR: '127.53.0.0/16', serviceCIDR: '10.53.0.0/16' },
];

const admin = adminKubeConfig;
const eventually = eventuallyWithin(5000);

test('federation: registered clusters are watched with narrow credentials, merged, replicated; an unreachable cluster keeps its endpoints', { timeout: 120_000 }, async () => {
  const servers = await Promise.all(CLUSTERS.map((c) => startTopologyCluster(c)));
  const [A, B, C] = servers.map(admin) as [k8s.KubeConfig, k8s.KubeConfig, k8s.KubeConfig];
  const registry = newRegistry();
  const events = new EventBus();
  const fed = new Federation({ kubeConfig: A, local: { name: 'a', network: 'n1', region: 'r1' }, registry, events, trustDomain: 'cluster.local' });
  try {
    for (const [kc, c] of [[B, CLUSTERS[1]!], [C, CLUSTERS[2]!]] as const) {
      const r = await registerCluster({ remote: kc, name: c.name, controlPlane: A });
      assert.equal(r.registration.network, c.network, 'network read from the kube-system label');
      assert.equal(r.registration.region, c.region, 'region read from the nodes');
    }
    // a registration whose kubeconfig is garbage: that cluster is errored, the others unaffected
    await A.makeApiClient(k8s.CoreV1Api).createNamespacedSecret({ namespace: 'meshfed-system', body: {
      metadata: { name: 'meshfed-remote-broken', labels: { 'meshfed.io/multicluster': 'true' }, annotations: { 'meshfed.io/cluster-name': 'broken' } },
      stringData: { kubeconfig: 'clusters: [this is: not a kubeconfig' },
    } });
    await fed.start();
    await fed.whenSynced(30_000);
    const states = Object.fromEntries(fed.clusters().map((c) => [c.name, c.state]));
    assert.deepEqual(states, { a: 'connected', b: 'connected', broken: 'error', c: 'connected' });
    assert.match(fed.clusters().find((c) => c.name === 'broken')!.reason!, /kubeconfig does not parse/);

    // the stored credential is the narrow one: it lists services but cannot read Secrets
    const narrow = fed.kubeConfigFor('b')!;
    await narrow.makeApiClient(k8s.CoreV1Api).listServiceForAllNamespaces();
    await assert.rejects(narrow.makeApiClient(k8s.CoreV1Api).listNamespacedSecret({ namespace: 'kube-system' }), (e: { code?: number }) => e.code === 403);

    // a Service with a ready Pod in a → Namespace + Service in b and c, endpoints with a's locality
    const coreA = A.makeApiClient(k8s.CoreV1Api);
    await coreA.createNamespace({ body: { metadata: { name: 'shop', labels: { 'meshfed.io/federation': 'enabled' } } } });
    const t0 = Date.now();
    await coreA.createNamespacedService({ namespace: 'shop', body: { metadata: { name: 'cart' }, spec: { selector: { app: 'cart' }, ports: [{ name: 'http', port: 80, targetPort: 8080 as unknown as k8s.IntOrString }] } } });
    await coreA.createNamespacedPod({ namespace: 'shop', body: { metadata: { name: 'cart-1', labels: { app: 'cart' } }, spec: { nodeName: 'a-r1-z1', containers: [{ name: 'c', image: 'x' }] } } });
    await coreA.patchNamespacedPodStatus({ name: 'cart-1', namespace: 'shop', body: { status: { phase: 'Running', podIP: '127.51.0.7', conditions: [{ type: 'Ready', status: 'True' }] } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    for (const kc of [B, C]) {
      const replica = await eventually('replica Service', () => kc.makeApiClient(k8s.CoreV1Api).readNamespacedService({ name: 'cart', namespace: 'shop' }));
      assert.equal(replica.metadata?.labels?.['app.kubernetes.io/managed-by'], 'meshfed');
      assert.equal(replica.metadata?.annotations?.['meshfed.io/source-clusters'], 'a');
      assert.equal(replica.spec?.selector, undefined, 'replicas are selectorless');
      assert.deepEqual(replica.spec?.ports?.map((p) => p.port), [80]);
    }
    const replicated = Date.now() - t0;
    const svc = await eventually('endpoint in the snapshot', () => { const s = fed.snapshot().services.get('shop/cart'); return s?.endpoints.length ? s : undefined; });
    assert.deepEqual(svc.endpoints.map((e) => [e.cluster, e.network, e.locality.region, e.locality.zone, e.address, e.ports.http, e.ready]), [['a', 'n1', 'r1', 'r1-z1', '127.51.0.7', 8080, true]]);
    console.log(JSON.stringify({ replicatedMs: replicated }));
    assert.ok(replicated < 5000, `replication took ${replicated} ms`);

    // a native Service of the same name in c: never touched, and its endpoints join the merged service
    const coreC = C.makeApiClient(k8s.CoreV1Api);
    await coreC.createNamespace({ body: { metadata: { name: 'web' } } }).catch(() => {});
    await coreA.createNamespace({ body: { metadata: { name: 'web', labels: { 'meshfed.io/federation': 'enabled' } } } });
    await coreC.createNamespacedService({ namespace: 'web', body: { metadata: { name: 'front', labels: { owner: 'team-c' } }, spec: { ports: [{ port: 80 }] } } });
    await coreA.createNamespacedService({ namespace: 'web', body: { metadata: { name: 'front' }, spec: { ports: [{ port: 80 }] } } });
    await eventually('front replica in b', () => B.makeApiClient(k8s.CoreV1Api).readNamespacedService({ name: 'front', namespace: 'web' }));
    const front = await eventually('front merged from a and c', () => { const s = fed.snapshot().services.get('web/front'); return s && s.clusters.length === 2 ? s : undefined; });
    assert.deepEqual([...front.clusters], ['a', 'c']);
    const native = await coreC.readNamespacedService({ name: 'front', namespace: 'web' });
    assert.deepEqual(native.metadata?.labels, { owner: 'team-c' });
    assert.equal(native.metadata?.managedFields?.some((f) => f.manager === 'meshfed'), false);

    // steady state: no writes
    const writes = async () => (await registry.getSingleMetric('meshfed_replication_writes_total')!.get()).values.reduce((n, v) => n + v.value, 0);
    await new Promise((r) => setTimeout(r, 1500));
    const before = await writes();
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await writes(), before, 'a steady state made writes');

    // b goes away: its state says so, its endpoints stay (marked); then it comes back
    await B.makeApiClient(k8s.CoreV1Api).createNamespacedService({ namespace: 'shop', body: { metadata: { name: 'cart-b' }, spec: { selector: { app: 'cart' }, ports: [{ name: 'http', port: 80 }] } } });
    const coreB = B.makeApiClient(k8s.CoreV1Api);
    await coreB.createNamespacedPod({ namespace: 'shop', body: { metadata: { name: 'cart-b1', labels: { app: 'cart' } }, spec: { nodeName: 'b-r1-z2', containers: [{ name: 'c', image: 'x' }] } } });
    await coreB.patchNamespacedPodStatus({ name: 'cart-b1', namespace: 'shop', body: { status: { phase: 'Running', podIP: '127.52.0.9', conditions: [{ type: 'Ready', status: 'True' }] } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    await eventually('cart-b endpoint', () => fed.snapshot().services.get('shop/cart-b')?.endpoints.length === 1 || undefined);
    await servers[1]!.setReachable(false);
    const down = await eventually('b unreachable', () => fed.clusters().find((c) => c.name === 'b' && c.state === 'unreachable'));
    const kept = fed.snapshot().services.get('shop/cart-b')!;
    assert.equal(kept.endpoints.length, 1, 'endpoints of an unreachable cluster are kept');
    assert.equal(kept.endpoints[0]!.staleSince, down.since);
    assert.ok(events.history().some((e) => e.kind === 'cluster.unreachable' && e.data?.cluster === 'b'));
    await servers[1]!.setReachable(true);
    await eventually('b connected again', () => fed.clusters().find((c) => c.name === 'b' && c.state === 'connected'), 20_000);
    await eventually('stale mark cleared', () => fed.snapshot().services.get('shop/cart-b')?.endpoints[0]?.staleSince === undefined || undefined);

    // someone in b applies their own `cart` over meshfed's replica (server-side apply, as `kubectl apply
    // --server-side`): the Service is theirs from then on — a source of the merged service, released by meshfed
    // (its label and annotation removed, the user's fields kept) and not deleted with the last other source
    await k8s.KubernetesObjectApi.makeApiClient(B).patch({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'cart', namespace: 'shop', labels: { app: 'cart' } }, spec: { selector: { app: 'cart' }, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } } as k8s.KubernetesObject, undefined, undefined, 'kubectl', false, k8s.PatchStrategy.ServerSideApply);
    await eventually('b is a source of shop/cart', () => fed.snapshot().services.get('shop/cart')?.clusters.includes('b') || undefined);
    const released = await eventually('meshfed let go of b\'s cart', async () => { const s = await coreB.readNamespacedService({ name: 'cart', namespace: 'shop' }); return s.metadata?.labels?.['app.kubernetes.io/managed-by'] === undefined ? s : undefined; });
    assert.deepEqual(released.spec?.selector, { app: 'cart' });
    assert.deepEqual(released.metadata?.labels, { app: 'cart' });
    assert.equal(released.metadata?.annotations?.['meshfed.io/source-clusters'], undefined);

    // delete the source in a → b's own cart stays and is now the only source (c's replica says so, a gets one);
    // delete b's too → the replicas go
    await coreA.deleteNamespacedService({ name: 'cart', namespace: 'shop' });
    await eventually('c\'s replica sourced from b', async () => (await coreC.readNamespacedService({ name: 'cart', namespace: 'shop' })).metadata?.annotations?.['meshfed.io/source-clusters'] === 'b' || undefined);
    assert.deepEqual((await coreB.readNamespacedService({ name: 'cart', namespace: 'shop' })).spec?.selector, { app: 'cart' }, 'b\'s own Service is never deleted');
    await coreB.deleteNamespacedService({ name: 'cart', namespace: 'shop' });
    await eventually('replica deleted in c', async () => { try { await coreC.readNamespacedService({ name: 'cart', namespace: 'shop' }); return undefined; } catch (e) { return (e as { code?: number }).code === 404 || undefined; } });
  } finally {
    await fed.stop();
    await Promise.all(servers.map((s) => s.close()));
  }
});
