// Replicas without a cacerts Secret agree on one development CA through Secret meshfed-dev-ca: concurrent
// starters end up with the same root, and an expired shared root is replaced.
import { standinTls } from '../../src/playground/standinTls.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { startApiServer } from '../../src/devcluster/index.ts';
import { adminKubeConfig } from '../../src/devcluster/clientConfig.ts';
import { loadSigningCa } from '../../src/ca/files.ts';
import { DEV_CA_SECRET, sharedDevCa } from '../../src/controlplane/sharedDevCa.ts';
import { createLogger } from '../../src/log.ts';

test('replicas share one development CA; an expired one is replaced', { timeout: 60_000 }, async () => {
  const server = await startApiServer({ name: 'devca', tls: standinTls('devca') });
  const kc = adminKubeConfig(server);
  const api = kc.makeApiClient(k8s.CoreV1Api);
  await api.createNamespace({ body: { metadata: { name: 'meshfed-system' } } });
  const log = createLogger('test');
  try {
    const own = await Promise.all([1, 2, 3].map(() => loadSigningCa({ kubeConfig: kc, trustDomain: 'cluster.local', log })));
    assert.ok(own.every((c) => c.source === 'dev'));
    assert.equal(new Set(own.map((c) => c.roots[0])).size, 3, 'each replica generated its own root');
    const shared = await Promise.all(own.map((mine) => sharedDevCa({ api, namespace: 'meshfed-system', mine, trustDomain: 'cluster.local', log })));
    assert.equal(new Set(shared.map((c) => c.roots[0])).size, 1, 'all replicas sign under one root');
    assert.ok(shared.every((c) => c.source === 'dev'));
    // the shared intermediate signs for every replica alike
    assert.equal(new Set(shared.map((c) => c.material.caCertPem)).size, 1);
    const stored = await api.readNamespacedSecret({ name: DEV_CA_SECRET, namespace: 'meshfed-system' });
    assert.equal(Buffer.from(stored.data!['root-cert.pem']!, 'base64').toString(), shared[0]!.material.rootCertPem);

    // 40 days later the 30-day development root has expired: the next replica to start replaces it
    const later = await loadSigningCa({ kubeConfig: kc, trustDomain: 'cluster.local', log });
    const replaced = await sharedDevCa({ api, namespace: 'meshfed-system', mine: later, trustDomain: 'cluster.local', log, now: () => Date.now() + 40 * 86_400_000 });
    assert.equal(replaced.roots[0], later.roots[0]);
    const now = await api.readNamespacedSecret({ name: DEV_CA_SECRET, namespace: 'meshfed-system' });
    assert.equal(Buffer.from(now.data!['root-cert.pem']!, 'base64').toString(), later.material.rootCertPem);
  } finally {
    await server.close();
  }
});
