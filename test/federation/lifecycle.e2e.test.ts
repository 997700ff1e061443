// Federation lifecycle end to end on two API stand-ins: writes counted by the remote API server itself (not by
// meshfed's own metric) — steady state and a control-plane restart make zero writes; a rotated registration
// Secret reconnects with the new credentials; a deleted one removes the cluster.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { startTopologyCluster } from '../../src/playground/clusters.ts';
import type { SecureServer } from '../../src/devcluster/secure.ts';
import type { RequestAttributes } from '../../src/devcluster/types.ts';
import { Federation } from '../../src/federation/federation.ts';
import { registerCluster } from '../../src/federation/register.ts';
import { READER_SA, registrationSecret, registrationSecretName } from '../../src/federation/registration.ts';
import { EventBus } from '../../src/observe/events.ts';
import { newRegistry } from '../../src/observe/metrics.ts';
import type { TopologyCluster } from '../../src/mesh/topology.ts';
import { adminKubeConfig } from '../../src/devcluster/clientConfig.ts';
import { eventuallyWithin } from '../helpers/eventually.ts';

const CLUSTERS: TopologyCluster[] = [
  { name: 'a', region: 'r1', zones: ['r1-z1'], network: 'n1', podCIDR: '127.61.0.0/16', serviceCIDR: '10.61.0.0/16' },
  { name: 'b', region: 'r2', zones: ['r2-z1'], network: 'n2', podCIDR: '127.62.0.0/16', serviceCIDR: '10.62.0.0/16' },
];
const READER_USER = `system:serviceaccount:meshfed-system:${READER_SA}`;
const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

const admin = adminKubeConfig;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const eventually = eventuallyWithin(10_000);

/** Every write the meshfed credential makes in this API server, as the server authorizes it. */
function countWrites(s: SecureServer): RequestAttributes[] {
  const seen: RequestAttributes[] = [];
  const authorize = s.hooks.authorize;
  s.hooks.authorize = async (user, attrs) => {
    const r = await authorize(user, attrs);
    if (r.allowed && user.username === READER_USER && WRITE_VERBS.has(attrs.verb)) seen.push(attrs);
    return r;
  };
  return seen;
}

test('federation lifecycle: zero writes in a steady state and across a restart; rotated Secret reconnects; deleted Secret removes the cluster', { timeout: 120_000 }, async () => {
  const servers = await Promise.all(CLUSTERS.map((c) => startTopologyCluster(c)));
  const [A, B] = servers.map(admin) as [k8s.KubeConfig, k8s.KubeConfig];
  const writesInB = countWrites(servers[1]!);
  const events = new EventBus();
  const make = () => new Federation({ kubeConfig: A, local: { name: 'a', network: 'n1', region: 'r1' }, registry: newRegistry(), events, resyncMs: 500 });
  let fed = make();
  try {
    const reg = await registerCluster({ remote: B, name: 'b', controlPlane: A });
    await fed.start();
    await fed.whenSynced(30_000);

    const coreA = A.makeApiClient(k8s.CoreV1Api);
    const coreB = B.makeApiClient(k8s.CoreV1Api);
    await coreA.createNamespace({ body: { metadata: { name: 'shop', labels: { 'meshfed.io/federation': 'enabled' } } } });
    await coreA.createNamespacedService({ namespace: 'shop', body: { metadata: { name: 'cart' }, spec: { selector: { app: 'cart' }, ports: [{ name: 'http', port: 80 }] } } });
    await eventually('replica of shop/cart in b', () => coreB.readNamespacedService({ name: 'cart', namespace: 'shop' }));
    // a native Service in b: it is a source of the merged snapshot while b is a member
    await coreB.createNamespacedService({ namespace: 'shop', body: { metadata: { name: 'stock' }, spec: { ports: [{ port: 81 }] } } });
    await eventually('b\'s native Service in the snapshot', () => fed.snapshot().services.get('shop/stock')?.clusters.includes('b') || undefined);

    // steady state, with the periodic re-plan every 500 ms: the API server sees no further writes
    await sleep(1500);
    const settled = writesInB.length;
    assert.ok(settled >= 2, `the Namespace and the Service were written into b (saw ${settled} writes)`);
    assert.ok(writesInB.every((w) => w.resource === 'namespaces' || w.resource === 'services'), `only namespaces/services written: ${JSON.stringify(writesInB.map((w) => `${w.verb} ${w.resource}`))}`);
    await sleep(2000);
    assert.equal(writesInB.length, settled, 'a steady state wrote to b');

    // a restarted control plane converges on what is there without writing again
    await fed.stop();
    fed = make();
    await fed.start();
    await fed.whenSynced(30_000);
    await sleep(2000);
    assert.equal(writesInB.length, settled, `a restart rewrote objects in b: ${JSON.stringify(writesInB.slice(settled).map((w) => `${w.verb} ${w.resource}/${w.name}`))}`);

    // rotated credentials: the watcher restarts with the new token, without restarting the control plane
    const tr = await coreB.createNamespacedServiceAccountToken({ name: READER_SA, namespace: 'meshfed-system', body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds: 3600 } } });
    const token = tr.status!.token!;
    const current = fed.kubeConfigFor('b')!.getCurrentUser()!.token;
    assert.notEqual(token, current);
    const mark = events.history().length;
    await coreA.replaceNamespacedSecret({ name: registrationSecretName('b'), namespace: 'meshfed-system', body: registrationSecret({ ...reg.registration, token }) });
    await eventually('b restarted with the rotated token', () => fed.kubeConfigFor('b')?.getCurrentUser()?.token === token || undefined);
    await eventually('b connected again', () => fed.clusters().find((c) => c.name === 'b' && c.state === 'connected'));
    assert.ok(events.history().slice(mark).some((e) => e.kind === 'cluster.syncing' && e.data?.cluster === 'b'), 'the reconnect is an event');
    assert.ok(fed.snapshot().services.get('shop/stock')?.clusters.includes('b'));

    // deleted Secret: b leaves the federation and the snapshot, with an event; a is unaffected
    await coreA.deleteNamespacedSecret({ name: registrationSecretName('b'), namespace: 'meshfed-system' });
    await eventually('b removed', () => !fed.clusters().some((c) => c.name === 'b') || undefined);
    await eventually('b\'s services leave the snapshot', () => !fed.snapshot().services.has('shop/stock') || undefined);
    assert.ok(events.history().some((e) => e.kind === 'cluster.removed' && e.data?.cluster === 'b'));
    assert.equal(fed.kubeConfigFor('b'), undefined);
    assert.deepEqual(fed.clusters().map((c) => [c.name, c.state]), [['a', 'connected']]);
    assert.deepEqual(fed.snapshot().services.get('shop/cart')?.clusters, ['a']);
    assert.deepEqual(fed.ready(), { ready: true, reasons: [] });
  } finally {
    await fed.stop();
    await Promise.all(servers.map((s) => s.close()));
  }
});
