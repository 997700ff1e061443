// Level-triggered trust-bundle publishing: writes only what is missing or different, zero writes in steady state,
// repairs drift, and an unreachable cluster is an error counted in a metric, not an exception.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { startClusters } from '../../src/devcluster/index.ts';
import { BundlePublisher, BUNDLE_CONFIGMAP, BUNDLE_KEY } from '../../src/ca/bundle.ts';
import { generateKey, selfSigned } from '../../src/ca/x509.ts';
import { adminKubeConfig } from '../../src/devcluster/clientConfig.ts';
import { standinTls } from '../../src/playground/standinTls.ts';

async function metricSum(registry: Registry, name: string): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? []).reduce((a, v) => a + Number(v.value), 0);
}

test('BundlePublisher.sync: writes missing/different only, none in steady state, repairs drift, counts errors', { timeout: 60_000 }, async (t) => {
  const servers = await startClusters([{ name: 'east', tls: standinTls('east') }, { name: 'west', tls: standinTls('west') }]);
  t.after(() => Promise.all(servers.map((s) => s.close())));
  const kcs = servers.map(adminKubeConfig);
  for (const kc of kcs) {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    for (const ns of ['shop', 'pay']) await core.createNamespace({ body: { metadata: { name: ns } } }).catch(() => undefined);
  }
  const gone = new k8s.KubeConfig();
  gone.loadFromOptions({ clusters: [{ name: 'g', server: 'https://127.0.0.1:1', skipTLSVerify: true }], users: [{ name: 'u', token: 'x' }], contexts: [{ name: 'g', cluster: 'g', user: 'u' }], currentContext: 'g' });
  const targets = [
    ...servers.map((s, i) => ({ cluster: s.name, kubeconfig: kcs[i], namespaces: ['shop', 'pay'] })),
    { cluster: 'gone', kubeconfig: gone, namespaces: ['shop'] },
  ];
  const registry = new Registry();
  const pub = new BundlePublisher(registry);
  const r1 = selfSigned(generateKey(), { cn: 'root one' }, 10);
  const r2 = selfSigned(generateKey(), { cn: 'root two' }, 10);
  const rv = async (): Promise<string[]> => (await Promise.all(kcs.flatMap((kc) => ['shop', 'pay'].map((ns) =>
    kc.makeApiClient(k8s.CoreV1Api).readNamespacedConfigMap({ name: BUNDLE_CONFIGMAP, namespace: ns })))))
    .map((cm) => cm.metadata?.resourceVersion ?? '');

  const first = await pub.sync(targets, [r1]);
  assert.equal(first.filter((x) => x.wrote).length, 4, 'written everywhere it was missing');
  assert.deepEqual(first.filter((x) => x.error).map((x) => x.cluster), ['gone']);
  assert.match(first.find((x) => x.error)?.error ?? '', /shop\/meshfed-root-cert in cluster gone/);
  assert.equal(await metricSum(registry, 'meshfed_ca_bundle_errors_total'), 1);
  const before = await rv();

  const steady = await pub.sync(targets.slice(0, 2), [r1]);
  assert.equal(steady.filter((x) => x.wrote).length, 0, 'steady state: zero writes');
  assert.deepEqual(await rv(), before, 'no ConfigMap changed');
  assert.equal(await metricSum(registry, 'meshfed_ca_bundle_writes_total'), 4);

  // drift in one namespace: only that one is rewritten
  const core = kcs[1].makeApiClient(k8s.CoreV1Api);
  const cm = await core.readNamespacedConfigMap({ name: BUNDLE_CONFIGMAP, namespace: 'pay' });
  await core.replaceNamespacedConfigMap({ name: BUNDLE_CONFIGMAP, namespace: 'pay', body: { ...cm, data: { [BUNDLE_KEY]: 'edited by hand\n' } } });
  const repaired = await pub.sync(targets.slice(0, 2), [r1]);
  assert.deepEqual(repaired.filter((x) => x.wrote).map((x) => `${x.cluster}/${x.namespace}`), [`${servers[1].name}/pay`]);
  assert.equal((await core.readNamespacedConfigMap({ name: BUNDLE_CONFIGMAP, namespace: 'pay' })).data?.[BUNDLE_KEY], r1.trim() + '\n');

  // rotation overlap: both roots everywhere
  const rotated = await pub.sync(targets.slice(0, 2), [r2, r1]);
  assert.equal(rotated.filter((x) => x.wrote).length, 4);
});
