// The EndpointSlice controller: pure decision and the running controller reacting to pod readiness.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { desiredSlices, resolvePorts } from '../../src/devcluster/controllers/endpointslices.ts';
import { startSecureApiServer } from '../../src/devcluster/secure.ts';
import { kubeconfigFor } from '../../src/devcluster/index.ts';
import type { KubeObject } from '../../src/devcluster/types.ts';
import { standinTls } from '../../src/playground/standinTls.ts';

const svc = (): KubeObject => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name: 'echo', namespace: 'demo', uid: 'svc-uid' },
  spec: { selector: { app: 'echo' }, ports: [{ name: 'http', port: 80, targetPort: 'web' }, { name: 'grpc', port: 9090, targetPort: 9091 }] },
});
const pod = (name: string, ip: string | undefined, ready: boolean, extra: Partial<{ node: string; labels: Record<string, string>; webPort: number }> = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'demo', uid: `uid-${name}`, labels: extra.labels ?? { app: 'echo' } },
  spec: { nodeName: extra.node ?? 'n1', containers: [{ name: 'c', ports: extra.webPort === undefined ? [{ name: 'web', containerPort: 8080 }] : [{ name: 'web', containerPort: extra.webPort }] }] },
  status: { phase: 'Running', ...(ip ? { podIP: ip } : {}), conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const nodes: KubeObject[] = [{ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { 'topology.kubernetes.io/zone': 'z1' } } }];

test('desiredSlices: matching pods with an IP, readiness, zone from the node, named targetPort resolved', () => {
  const slices = desiredSlices(svc(), [pod('a', '127.1.0.1', true), pod('b', '127.1.0.2', false), pod('c', undefined, true), pod('d', '127.1.0.4', true, { labels: { app: 'other' } })], nodes);
  assert.equal(slices.length, 1);
  const s = slices[0] as KubeObject & { endpoints: Array<Record<string, any>>; ports: unknown[] };
  assert.equal(s.metadata.labels?.['kubernetes.io/service-name'], 'echo');
  assert.equal(s.metadata.labels?.['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
  assert.equal(s.addressType, 'IPv4');
  assert.deepEqual(s.ports, [{ name: 'http', protocol: 'TCP', port: 8080 }, { name: 'grpc', protocol: 'TCP', port: 9091 }]);
  assert.deepEqual(s.endpoints.map((e) => [e.addresses[0], e.conditions.ready, e.zone, e.nodeName, e.targetRef.name]), [
    ['127.1.0.1', true, 'z1', 'n1', 'a'],
    ['127.1.0.2', false, 'z1', 'n1', 'b'],
  ]);
});

test('desiredSlices: pods with different resolved ports go to different slices; no selector → none', () => {
  const slices = desiredSlices(svc(), [pod('a', '127.1.0.1', true), pod('b', '127.1.0.2', true, { webPort: 8081 })], nodes);
  assert.equal(slices.length, 2);
  assert.notEqual(slices[0].metadata.name, slices[1].metadata.name);
  const noSel = svc();
  (noSel.spec as Record<string, unknown>).selector = undefined;
  assert.deepEqual(desiredSlices(noSel, [pod('a', '127.1.0.1', true)], nodes), []);
  assert.deepEqual(resolvePorts([{ name: 'x', port: 1, targetPort: 'missing' }], pod('a', '1.1.1.1', true)), []);
});

test('the controller reflects pods becoming ready and unready, and removes slices with the service', async () => {
  const server = await startSecureApiServer({ name: 'eps', tls: standinTls('eps') });
  try {
    const kc = new k8s.KubeConfig();
    kc.loadFromString(kubeconfigFor([server]));
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const disc = kc.makeApiClient(k8s.DiscoveryV1Api);
    await core.createNamespace({ body: { metadata: { name: 'demo' } } });
    await core.createNode({ body: { metadata: { name: 'n1', labels: { 'topology.kubernetes.io/zone': 'z1' } } } });
    await core.createNamespacedService({ namespace: 'demo', body: svc() as k8s.V1Service });
    const p = pod('a', undefined, false);
    await core.createNamespacedPod({ namespace: 'demo', body: p as k8s.V1Pod });
    const slices = async () => (await disc.listNamespacedEndpointSlice({ namespace: 'demo', labelSelector: 'kubernetes.io/service-name=echo' })).items;
    const until = async (pred: (s: k8s.V1EndpointSlice[]) => boolean, what: string) => {
      const end = Date.now() + 5000;
      for (;;) {
        const s = await slices();
        if (pred(s)) return s;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    await until((s) => s.length === 1 && (s[0].endpoints ?? []).length === 0, 'an empty slice');
    const setStatus = (ready: boolean) => core.replaceNamespacedPodStatus({ name: 'a', namespace: 'demo', body: { ...(p as k8s.V1Pod), status: { phase: 'Running', podIP: '127.1.0.9', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } } });
    await setStatus(true);
    const ready = await until((s) => s[0]?.endpoints?.[0]?.conditions?.ready === true, 'a ready endpoint');
    assert.deepEqual(ready[0].endpoints[0].addresses, ['127.1.0.9']);
    assert.equal(ready[0].endpoints[0].zone, 'z1');
    await setStatus(false);
    await until((s) => s[0]?.endpoints?.[0]?.conditions?.ready === false, 'the endpoint unready');
    await core.deleteNamespacedService({ name: 'echo', namespace: 'demo' });
    await until((s) => s.length === 0, 'slices removed');
  } finally {
    await server.close();
  }
});
