// Trust-bundle ConfigMap published by server-side apply into the devcluster Kubernetes API stand-in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { startClusters } from '../../src/devcluster/index.ts';
import { publishBundle, BUNDLE_CONFIGMAP } from '../../src/ca/bundle.ts';
import { generateKey, selfSigned, splitPemChain } from '../../src/ca/x509.ts';
import { adminKubeConfig } from '../../src/devcluster/clientConfig.ts';
import { standinTls } from '../../src/playground/standinTls.ts';

test('publishBundle applies meshfed-root-cert into every namespace of every cluster and updates it on rotation', async (t) => {
  const servers = await startClusters([{ name: 'east', tls: standinTls('east') }, { name: 'west', tls: standinTls('west') }]);
  t.after(() => Promise.all(servers.map((s) => s.close())));
  const kcs = servers.map(adminKubeConfig);
  for (const kc of kcs) {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    for (const ns of ['shop', 'pay']) await core.createNamespace({ body: { metadata: { name: ns } } }).catch(() => undefined);
  }
  const r1 = selfSigned(generateKey(), { cn: 'root one' }, 10);
  const r2 = selfSigned(generateKey(), { cn: 'root two' }, 10);
  const targets = servers.map((s, i) => ({ cluster: s.name, kubeconfig: kcs[i], namespaces: ['shop', 'pay'] }));
  const first = await publishBundle(targets, [r1]);
  assert.deepEqual(first.filter((x) => x.error), []);
  const second = await publishBundle([...targets, { cluster: 'gone', kubeconfig: (() => { const kc = new k8s.KubeConfig(); kc.loadFromOptions({ clusters: [{ name: 'g', server: 'https://127.0.0.1:1', skipTLSVerify: true }], users: [{ name: 'u', token: 'x' }], contexts: [{ name: 'g', cluster: 'g', user: 'u' }], currentContext: 'g' }); return kc; })(), namespaces: ['shop'] }], [r2, r1]);
  const errs = second.filter((x) => x.error);
  assert.equal(errs.length, 1, 'only the unreachable cluster fails, the others are still updated');
  assert.match(errs[0].error ?? '', /ConfigMap shop\/meshfed-root-cert in cluster gone/);
  for (const kc of kcs) {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    for (const ns of ['shop', 'pay']) {
      const cm = await core.readNamespacedConfigMap({ name: BUNDLE_CONFIGMAP, namespace: ns });
      assert.deepEqual(splitPemChain(cm.data?.['root-cert.pem'] ?? '').map((p) => p.trim()), [r2.trim(), r1.trim()]);
      assert.ok(cm.metadata?.managedFields?.some((f) => f.manager === 'meshfed' && f.operation === 'Apply'), 'applied with field manager meshfed');
    }
  }
});
