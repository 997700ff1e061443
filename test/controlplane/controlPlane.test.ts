// `meshfed control-plane` as a process against API stand-ins: federation + CA + pilot + admin in one process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import * as k8s from '@kubernetes/client-node';
import { requestCertificate, CaRequestError } from '../../src/ca/client.ts';
import { workloadCsr } from '../../src/ca/csr.ts';
import { generateKey, keyToPem } from '../../src/ca/x509.ts';
import { AdsClient } from '../helpers/rawAdsClient.ts';
import { TYPE_URL } from '../../src/xds/protos.ts';
import { MESHFED_BIN } from '../helpers/meshfed.ts';
import { startRegisteredClusters } from '../helpers/registeredClusters.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('control plane process: discovers, publishes the trust bundle, issues certificates on the shared TLS port, serves xDS plaintext and mTLS', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshfed-cp-'));
  const { a, b, aFile, bFile } = await startRegisteredClusters(dir, 71);
  const A = new k8s.KubeConfig(); A.loadFromFile(aFile);
  const B = new k8s.KubeConfig(); B.loadFromFile(bFile);
  const child = spawn(process.execPath, [MESHFED_BIN, 'control-plane', '--kubeconfig', aFile, '--cluster-name', 'a', '--network', 'n1', '--region', 'r1',
    '--host', '127.0.0.1', '--xds-port', '0', '--secure-port', '0', '--admin-port', '0', '--failover', 'r1=r2;r2=r1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  try {
    const deadline = Date.now() + 90_000;
    while (!out.includes('"admin"')) {
      assert.ok(Date.now() < deadline && child.exitCode === null, `control plane did not start: ${out}\n${err.slice(-3000)}`);
      await sleep(100);
    }
    const ports = JSON.parse(out.trim().split('\n')[0]!) as { xds: number; secure: number; admin: number; ca: string };
    assert.equal(ports.ca, 'dev');
    assert.match(err, /self-signed development root \(NOT for production\)/);
    const base = `http://127.0.0.1:${ports.admin}`;
    for (let ok = false; !ok; await sleep(100)) {
      ok = (await fetch(`${base}/readyz`).catch(() => undefined))?.status === 200;
      assert.ok(Date.now() < deadline, 'never ready');
    }
    const clusters = await (await fetch(`${base}/debug/clusters`)).json() as Array<{ name: string; state: string }>;
    assert.deepEqual(clusters.map((c) => [c.name, c.state]), [['a', 'connected'], ['b', 'connected']]);

    // a federated service in b: replicated to a, in the registry, and its namespace gets the trust bundle
    const coreB = B.makeApiClient(k8s.CoreV1Api);
    await coreB.createNamespace({ body: { metadata: { name: 'shop', labels: { 'meshfed.io/federation': 'enabled' } } } });
    await coreB.createNamespacedService({ namespace: 'shop', body: { metadata: { name: 'cart' }, spec: { selector: { app: 'cart' }, ports: [{ name: 'http', port: 80 }] } } });
    await coreB.createNamespacedServiceAccount({ namespace: 'shop', body: { metadata: { name: 'cart' } } });
    let bundle = '';
    for (const t = Date.now(); !bundle; await sleep(100)) {
      assert.ok(Date.now() - t < 20_000, 'trust bundle not published');
      bundle = (await coreB.readNamespacedConfigMap({ name: 'meshfed-root-cert', namespace: 'shop' }).catch(() => undefined))?.data?.['root-cert.pem'] ?? '';
    }
    // replication and trust-bundle publishing run side by side: the replica may land a moment after the bundle
    for (const t = Date.now(); !(await A.makeApiClient(k8s.CoreV1Api).readNamespacedService({ name: 'cart', namespace: 'shop' }).catch(() => undefined)); await sleep(100)) {
      assert.ok(Date.now() - t < 20_000, 'cart not replicated into a');
    }

    // a workload of b gets its SPIFFE certificate from the CA on the shared TLS port, with its ServiceAccount token
    const token = (await coreB.createNamespacedServiceAccountToken({ name: 'cart', namespace: 'shop', body: { spec: { audiences: [] } } })).status!.token!;
    const key = generateKey();
    const csrPem = workloadCsr(key, 'spiffe://cluster.local/ns/shop/sa/cart');
    const chain = await requestCertificate({ address: `127.0.0.1:${ports.secure}`, caCertPem: bundle, token, cluster: 'b', csrPem });
    const leaf = new X509Certificate(chain[0]!);
    assert.equal(leaf.subjectAltName, 'URI:spiffe://cluster.local/ns/shop/sa/cart');
    await assert.rejects(requestCertificate({ address: `127.0.0.1:${ports.secure}`, caCertPem: bundle, token, cluster: 'mars', csrPem }),
      (e: CaRequestError) => e.code === grpc.status.UNAUTHENTICATED && /unknown cluster "mars"/.test(e.message));

    // xDS: plaintext works; on the TLS port only with a mesh certificate
    const node = { id: 'sidecar~127.72.0.5~cart-1.shop~shop.svc.cluster.local', locality: { region: 'r2', zone: 'r2a' }, metadata: { CLUSTER_ID: 'b', NETWORK: 'n2', MESHFED_ROLE: 'sidecar' } };
    const plain = new AdsClient(`127.0.0.1:${ports.xds}`, node);
    plain.send(TYPE_URL.cluster, []);
    assert.ok((await plain.next(10_000)).resources.length >= 1);
    plain.close();
    const mtls = new AdsClient(`127.0.0.1:${ports.secure}`, node, grpc.credentials.createSsl(Buffer.from(bundle), Buffer.from(keyToPem(key.privateKey)), Buffer.from(chain.slice(0, -1).join(''))));
    mtls.send(TYPE_URL.cluster, []);
    assert.ok((await mtls.next(10_000)).resources.length >= 1);
    const synced = await (await fetch(`${base}/debug/syncz`)).json() as Array<{ nodeId: string; peerIdentity?: string }>;
    assert.ok(synced.some((p) => p.peerIdentity === 'spiffe://cluster.local/ns/shop/sa/cart'), JSON.stringify(synced));
    mtls.close();
    const anon = new AdsClient(`127.0.0.1:${ports.secure}`, node, grpc.credentials.createSsl(Buffer.from(bundle)));
    anon.send(TYPE_URL.cluster, []);
    await assert.rejects(anon.next(10_000), /UNAUTHENTICATED|client certificate/);
    anon.close();

    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /meshfed_federation_cluster_state\{cluster="b",state="connected"\} 1/);
    assert.match(metrics, /meshfed_ca_certificates_issued_total 1/);
  } finally {
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.once('exit', r));
    await Promise.all([a!.close(), b!.close()]);
    assert.equal(code, 0, err.slice(-2000));
  }
});
