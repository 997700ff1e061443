import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { startClusters, kubeconfigFor } from '../../src/devcluster/index.ts';

test('startClusters runs independent clusters in one process behind one kubeconfig; secrets store stringData as data', async () => {
  await assert.rejects(startClusters([{ name: 'dup' }, { name: 'dup' }]), /duplicate cluster name "dup"/);
  const servers = await startClusters([{ name: 'east', serviceCidr: '10.10.0.0/24' }, { name: 'west', serviceCidr: '10.20.0.0/24' }]);
  try {
    assert.notEqual(servers[0].port, servers[1].port);
    assert.notEqual(servers[0].ca, servers[1].ca);
    const kc = new k8s.KubeConfig();
    kc.loadFromString(kubeconfigFor(servers));
    assert.deepEqual(kc.getContexts().map((c) => c.name), ['east', 'west']);
    const ips: string[] = [];
    for (const ctx of ['east', 'west']) {
      kc.setCurrentContext(ctx);
      const core = kc.makeApiClient(k8s.CoreV1Api);
      await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: `only-${ctx}` } } });
      const svc = await core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } } });
      ips.push(svc.spec!.clusterIP!);
      const names = (await core.listNamespacedConfigMap({ namespace: 'default' })).items.map((c) => c.metadata!.name);
      assert.deepEqual(names, [`only-${ctx}`]);
      const sec = await core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 's' }, stringData: { user: 'me' } } });
      assert.equal(sec.data!.user, Buffer.from('me').toString('base64'));
      assert.equal(sec.stringData, undefined);
      assert.equal(sec.type, 'Opaque');
    }
    assert.match(ips[0], /^10\.10\.0\./);
    assert.match(ips[1], /^10\.20\.0\./);
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
});
