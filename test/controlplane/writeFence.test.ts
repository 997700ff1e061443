// Every writer of the control plane asks the leader-election fence before each write: replication (also when the
// fence closes while a request waits for its connection), the trust bundle and traffic-policy statuses. A closed
// fence sends nothing to the API server (counted at the stand-in), and an open one writes as before.
import { standinTls } from '../../src/playground/standinTls.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { Counter, Registry } from 'prom-client';
import { startApiServer, type ApiServer } from '../../src/devcluster/index.ts';
import { adminKubeConfig } from '../../src/devcluster/clientConfig.ts';
import { FencedError, kubeWriter, objectPath } from '../../src/federation/kubeWriter.ts';
import { Replicator } from '../../src/federation/replicator.ts';
import { namespaceReplica } from '../../src/federation/replicationPlan.ts';
import { BundlePublisher, BUNDLE_CONFIGMAP } from '../../src/ca/bundle.ts';
import { generateKey, selfSigned } from '../../src/ca/x509.ts';
import { PolicyWatcher } from '../../src/policy/watcher.ts';
import { createLogger } from '../../src/log.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Counts the requests that are not reads. */
function countWrites(s: ApiServer): { n: number; paths: string[] } {
  const seen = { n: 0, paths: [] as string[] };
  const authenticate = s.hooks.authenticate.bind(s.hooks);
  s.hooks.authenticate = (req) => {
    if (req.method !== 'GET') { seen.n++; seen.paths.push(`${req.method} ${req.url}`); }
    return authenticate(req);
  };
  return seen;
}

test('replication: a closed fence sends nothing (checked when the connection is up), an open one writes', async () => {
  const server = await startApiServer({ name: 'fence-repl', tls: standinTls('fence-repl') });
  const kc = adminKubeConfig(server);
  const seen = countWrites(server);
  try {
    let open = false;
    const w = kubeWriter(kc, undefined, { fence: () => open, userAgent: 'meshfed-control-plane/test' });
    await assert.rejects(w.apply(objectPath('Namespace', 'x'), namespaceReplica('x'), 'meshfed'), (e) => e instanceof FencedError && /no longer holds the leader lease/.test(e.message));
    assert.equal(seen.n, 0);
    // the fence is read when the request is about to leave, not when it was queued
    const pending = w.apply(objectPath('Namespace', 'y'), namespaceReplica('y'), 'meshfed');
    open = true;
    await pending;
    assert.deepEqual(seen.paths.map((p) => p.split('?')[0]), ['PATCH /api/v1/namespaces/y']);
    open = false;
    const reads = await w.get(objectPath('Namespace', 'y'));
    assert.equal(reads?.metadata?.name, 'y', 'reads are not fenced');

    const writes = new Counter({ name: 'w', help: 'w', labelNames: ['cluster', 'op', 'result'], registers: [] });
    const r = new Replicator(() => kc, writes, createLogger('test'), Date.now, { fence: () => open });
    const actions = ['a', 'b', 'c'].map((n) => ({ op: 'apply-namespace' as const, cluster: 'c1', name: n, body: namespaceReplica(n) }));
    assert.deepEqual(await r.apply(actions), { written: 0, failed: 0, fenced: 3 });
    assert.equal(seen.n, 1);
    open = true;
    // refused writes are not remembered as done: the next pass (as the leader) writes them
    assert.deepEqual(await r.apply(actions), { written: 3, failed: 0, fenced: 0 });
    assert.equal(seen.n, 4);
  } finally {
    await server.close();
  }
});

test('trust bundle: a follower writes no ConfigMap and says why; the leader writes', async () => {
  const server = await startApiServer({ name: 'fence-bundle', tls: standinTls('fence-bundle') });
  const kc = adminKubeConfig(server);
  await kc.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: 'shop' } } });
  const seen = countWrites(server);
  try {
    const pub = new BundlePublisher(new Registry());
    const root = selfSigned(generateKey(), { cn: 'root' }, 10);
    const refused = await pub.sync([{ cluster: 'c1', kubeconfig: kc, namespaces: ['shop'] }], [root], () => false);
    assert.equal(seen.n, 0);
    assert.match(refused[0]?.error ?? '', /shop\/meshfed-root-cert in cluster c1: not written, this replica no longer leads/);
    const done = await pub.sync([{ cluster: 'c1', kubeconfig: kc, namespaces: ['shop'] }], [root], () => true);
    assert.equal(done[0]?.wrote, true);
    assert.equal((await kc.makeApiClient(k8s.CoreV1Api).readNamespacedConfigMap({ name: BUNDLE_CONFIGMAP, namespace: 'shop' })).data?.['root-cert.pem']?.trim(), root.trim());
  } finally {
    await server.close();
  }
});

test('traffic policy: a follower installs no CRD and writes no status; once it leads (reevaluate) it installs the missing CRDs, then writes the statuses', { timeout: 60_000 }, async () => {
  const server = await startApiServer({ name: 'fence-policy', tls: standinTls('fence-policy') });
  const kc = adminKubeConfig(server);
  let leading = false;
  let served = false;
  const watcher = new PolicyWatcher({ kubeConfig: kc, onPolicy: (set) => { served = set.virtualServices.some((v) => v.metadata.name === 'echo'); }, writeFence: () => leading });
  const seen = countWrites(server);
  const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
  const crdThere = () => ext.readCustomResourceDefinition({ name: 'virtualservices.networking.istio.io' }).then(() => true, () => false);
  try {
    await watcher.start();
    await sleep(500);
    assert.equal(seen.paths.length, 0, `a follower wrote: ${seen.paths.join(', ')}`);
    assert.equal(await crdThere(), false, 'a follower installed the CRDs');
    leading = true;
    watcher.reevaluate();
    for (const end = Date.now() + 20_000; !(await crdThere()); await sleep(50)) assert.ok(Date.now() < end, 'the new leader did not install the CRDs');
    assert.ok(seen.paths.every((p) => p.startsWith('POST /apis/apiextensions.k8s.io/v1/customresourcedefinitions')), seen.paths.join('\n'));
    leading = false;
    await kc.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: 'demo' } } });
    seen.paths.length = 0;
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    await custom.createNamespacedCustomObject({ group: 'networking.istio.io', version: 'v1', namespace: 'demo', plural: 'virtualservices',
      body: { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'echo' }, spec: { hosts: ['echo'], http: [{ route: [{ destination: { host: 'echo' } }] }] } } });
    const status = async () => ((await custom.getNamespacedCustomObject({ group: 'networking.istio.io', version: 'v1', namespace: 'demo', plural: 'virtualservices', name: 'echo' })) as { status?: unknown }).status;
    // the informer reads the new CRD's objects after its retry, then evaluates (20 ms coalescing) many times over
    for (const end = Date.now() + 20_000; !served; await sleep(50)) assert.ok(Date.now() < end, 'the watcher did not see the VirtualService');
    await sleep(500);
    assert.equal(await status(), undefined);
    assert.deepEqual(seen.paths.filter((p) => !p.startsWith('POST /apis/networking.istio.io/v1/namespaces/demo/virtualservices')), [], 'a follower wrote');
    leading = true;
    watcher.reevaluate();
    for (const end = Date.now() + 20_000; !(await status()); await sleep(50)) assert.ok(Date.now() < end, 'the new leader did not write the status');
    assert.match(JSON.stringify(await status()), /"reason":"Accepted"/);
  } finally {
    await watcher.stop();
    await server.close();
  }
});
