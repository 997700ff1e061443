// Issue 22 item 3: a user's Service s7 (port 9999) in west-1 is replicated into east-2; someone then runs
// `kubectl apply --server-side` (kubectl 1.32) of their own s7 (port 8007, with a selector) in east-2. meshfed
// must let go of everything only it owned there (its label, annotation AND its port 9999), so east-2's s7 ends
// exactly as the user applied it, and the merged service — and east-1's replica — must be the same in every run,
// whichever second each object was created in. Five rounds, each with a fresh service.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { standinTls } from '../../src/playground/standinTls.ts';
import { startSecureApiServer, type SecureServer } from '../../src/devcluster/secure.ts';
import { adminKubeConfig } from '../../src/devcluster/clientConfig.ts';
import { kubeconfigFor } from '../../src/devcluster/server.ts';
import { Federation } from '../../src/federation/federation.ts';
import { registerCluster } from '../../src/federation/register.ts';
import { EventBus } from '../../src/observe/events.ts';
import { newRegistry } from '../../src/observe/metrics.ts';
import { run } from '../helpers/kubectl.ts';
import { eventuallyWithin } from '../helpers/eventually.ts';

const KUBECTL_132 = '/usr/bin/kubectl';
const NAMES = ['west-1', 'east-2', 'east-1'] as const;

const eventually = eventuallyWithin(15_000);

const userS7 = (name: string) => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: demo
spec:
  selector:
    app: ${name}
  ports:
  - name: user
    port: 8007
    protocol: TCP
`;

test('taking over a replica with kubectl apply --server-side leaves exactly the user\'s Service, and the same merged snapshot in 5 runs out of 5', { timeout: 180_000 }, async () => {
  const servers: SecureServer[] = await Promise.all(NAMES.map((name, i) => startSecureApiServer({ name, serviceCidr: `10.${71 + i}.0.0/16`, tls: standinTls(name) })));
  const [west1, east2, east1] = servers.map(adminKubeConfig) as [k8s.KubeConfig, k8s.KubeConfig, k8s.KubeConfig];
  const dir = mkdtempSync(join(tmpdir(), 'meshfed-takeover-'));
  const east2File = join(dir, 'east-2.kubeconfig');
  writeFileSync(east2File, kubeconfigFor([servers[1]!]));
  const fed = new Federation({ kubeConfig: west1, local: { name: 'west-1', network: 'net-west', region: 'us-west-1' }, registry: newRegistry(), events: new EventBus() });
  try {
    await registerCluster({ remote: east2, name: 'east-2', network: 'net-east', region: 'us-east-2', controlPlane: west1 });
    await registerCluster({ remote: east1, name: 'east-1', network: 'net-east', region: 'us-east-1', controlPlane: west1 });
    await fed.start();
    await fed.whenSynced(30_000);
    const [coreW, coreE2, coreE1] = [west1, east2, east1].map((kc) => kc.makeApiClient(k8s.CoreV1Api)) as [k8s.CoreV1Api, k8s.CoreV1Api, k8s.CoreV1Api];
    await coreW.createNamespace({ body: { metadata: { name: 'demo', labels: { 'meshfed.io/federation': 'enabled' } } } });
    const outcomes: string[] = [];
    for (let round = 1; round <= 5; round++) {
      const name = `s7-${round}`;
      await coreW.createNamespacedService({ namespace: 'demo', body: { metadata: { name }, spec: { selector: { app: name }, ports: [{ name: 'web', port: 9999, protocol: 'TCP' }] } } });
      await eventually(`${name} replicated into east-2`, async () => (await coreE2.readNamespacedService({ name, namespace: 'demo' })).metadata?.labels?.['app.kubernetes.io/managed-by'] === 'meshfed' || undefined);
      const apply = await run(KUBECTL_132, ['--kubeconfig', east2File, 'apply', '--server-side', '-f', '-'], userS7(name));
      assert.equal(apply.code, 0, `kubectl apply --server-side: ${apply.stderr}`);
      // meshfed lets go: nothing of its replica is left in the user's Service
      const mine = await eventually(`meshfed released east-2's ${name}`, async () => {
        const s = await coreE2.readNamespacedService({ name, namespace: 'demo' });
        return s.metadata?.labels?.['app.kubernetes.io/managed-by'] === undefined && !s.metadata?.managedFields?.some((m) => m.manager === 'meshfed') ? s : undefined;
      });
      assert.deepEqual(mine.spec?.ports?.map((p) => [p.name, p.port, p.protocol]), [['user', 8007, 'TCP']], `round ${round}: east-2's ${name} keeps only the user's port`);
      assert.deepEqual(mine.spec?.selector, { app: name });
      assert.equal(mine.metadata?.annotations?.['meshfed.io/source-clusters'], undefined);
      assert.deepEqual(mine.metadata?.managedFields?.map((m) => m.manager), ['kubectl']);
      // the merged service settles: both clusters define it, the older definition (west-1's) wins
      const merged = await eventually(`${name} merged from both`, () => {
        const s = fed.snapshot().services.get(`demo/${name}`);
        return s && s.clusters.length === 2 ? s : undefined;
      });
      const replica = await eventually(`east-1's replica of ${name} sourced from both`, async () => {
        const s = await coreE1.readNamespacedService({ name, namespace: 'demo' });
        return s.metadata?.annotations?.['meshfed.io/source-clusters'] === 'east-2,west-1' ? s : undefined;
      });
      outcomes.push(JSON.stringify({
        ports: merged.ports.map((p) => p.port),
        clusters: merged.clusters,
        conflicts: merged.conflicts.map((c) => `${c.cluster}<${c.winner}`),
        east1Replica: replica.spec?.ports?.map((p) => p.port),
      }));
    }
    assert.deepEqual(outcomes, Array(5).fill(JSON.stringify({ ports: [9999], clusters: ['east-2', 'west-1'], conflicts: ['east-2<west-1'], east1Replica: [9999] })));
  } finally {
    await fed.stop();
    await Promise.all(servers.map((s) => s.close()));
  }
});
