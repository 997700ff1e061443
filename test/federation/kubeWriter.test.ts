import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { kubeWriter, objectPath } from '../../src/federation/kubeWriter.ts';
import { apiMessage, apiStatus } from '../../src/kube/apiError.ts';
import { standinTls } from '../../src/playground/standinTls.ts';

test('kubeWriter: GET (404 → undefined), server-side apply with the field manager, DELETE; failures carry status and Status message', async () => {
  const seen: Array<{ method: string; url: string; type?: string; auth?: string; body: string }> = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, type: req.headers['content-type'], auth: req.headers.authorization, body });
      const json = (status: number, o: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(o)); };
      if (req.url!.includes('/services/missing')) return json(404, { kind: 'Status', code: 404, message: 'services "missing" not found' });
      if (req.url!.includes('/services/taken')) return json(409, { kind: 'Status', code: 409, message: 'Apply failed with 1 conflict' });
      json(200, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'echo', namespace: 'demo', labels: { a: 'b' } } });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({ clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }], users: [{ name: 'u', token: 'tok' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
    const w = kubeWriter(kc);
    assert.equal(objectPath('Service', 'echo', 'demo'), '/api/v1/namespaces/demo/services/echo');
    assert.equal(objectPath('Namespace', 'demo'), '/api/v1/namespaces/demo');
    assert.deepEqual((await w.get(objectPath('Service', 'echo', 'demo')))?.metadata?.labels, { a: 'b' });
    assert.equal(await w.get(objectPath('Service', 'missing', 'demo')), undefined);
    const body = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'echo', namespace: 'demo' } };
    await w.apply(objectPath('Service', 'echo', 'demo'), body, 'meshfed');
    const patch = seen.find((s) => s.method === 'PATCH')!;
    assert.equal(patch.url, '/api/v1/namespaces/demo/services/echo?fieldManager=meshfed&force=false');
    assert.equal(patch.type, 'application/apply-patch+yaml');
    assert.deepEqual(JSON.parse(patch.body), body);
    assert.equal(patch.auth, 'Bearer tok', 'the kubeconfig credentials are applied');
    const conflict = await w.apply(objectPath('Service', 'taken', 'demo'), body, 'meshfed').then(() => undefined, (e: unknown) => e);
    assert.equal(apiStatus(conflict), 409);
    assert.equal(apiMessage(conflict), 'Apply failed with 1 conflict');
    const gone = await w.delete(objectPath('Service', 'missing', 'demo')).then(() => undefined, (e: unknown) => e);
    assert.equal(apiStatus(gone), 404);
    await w.delete(objectPath('Service', 'echo', 'demo'));
    assert.equal(seen.at(-1)!.method, 'DELETE');
  } finally {
    server.close();
  }
});

test('kubeWriter keeps its TLS connections to an API server alive across writes (one handshake, not one per request)', async () => {
  const { startApiServer } = await import('../../src/devcluster/server.ts');
  const { adminKubeConfig } = await import('../../src/devcluster/clientConfig.ts');
  const api = await startApiServer({ name: 'kw', tls: standinTls('kw') });
  // count TLS connections as the apiserver sees them: a proxy in front of it on loopback
  const net = await import('node:net');
  let connections = 0;
  const proxy = net.createServer((c) => {
    connections++;
    const up = net.connect(api.port, '127.0.0.1');
    c.pipe(up).pipe(c);
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  try {
    const kc = adminKubeConfig({ ...api, url: `https://127.0.0.1:${(proxy.address() as AddressInfo).port}` });
    const w = kubeWriter(kc);
    for (let i = 0; i < 20; i++) {
      await w.apply(objectPath('Namespace', `ns${i}`), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns${i}` } }, 'meshfed');
      assert.equal((await w.get(objectPath('Namespace', `ns${i}`)))?.metadata?.name, `ns${i}`);
    }
    assert.equal(connections, 1, `40 sequential requests used ${connections} connections`);
    await Promise.all(Array.from({ length: 8 }, (_, i) => w.get(objectPath('Namespace', `ns${i}`))));
    assert.ok(connections <= 8, `8 parallel requests opened ${connections - 1} more connections`);
  } finally {
    proxy.close();
    await api.close();
  }
});
