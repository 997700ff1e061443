import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { startClusters, kubeconfigFor } from '../../src/devcluster/index.ts';
import { standinTls } from '../../src/playground/standinTls.ts';

test('startClusters runs independent clusters in one process behind one kubeconfig; secrets store stringData as data', async () => {
  await assert.rejects(startClusters([{ name: 'dup', tls: standinTls('dup') }, { name: 'dup', tls: standinTls('dup') }]), /duplicate cluster name "dup"/);
  const registry = new Registry();
  const servers = await startClusters([{ name: 'east', tls: standinTls('east'), serviceCidr: '10.10.0.0/24', registry }, { name: 'west', tls: standinTls('west'), serviceCidr: '10.20.0.0/24' }]);
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
    const metrics = await registry.getMetricsAsJSON();
    const reqs = metrics.find((m) => m.name === 'meshfed_devcluster_requests_total')!;
    const creates = reqs.values.filter((v) => v.labels.cluster === 'east' && v.labels.verb === 'create' && v.labels.code === '201');
    assert.equal(creates.reduce((a, v) => a + v.value, 0), 3);
    assert.match(ips[0], /^10\.10\.0\./);
    assert.match(ips[1], /^10\.20\.0\./);
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
});
