// The CA's token check end to end against the API stand-in's own TokenRequest/TokenReview (as on a real cluster).
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as k8s from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { CaRequestError, requestCertificate } from '../../src/ca/client.ts';
import { buildCsr } from '../../src/ca/csr.ts';
import { initCa, loadCaDir } from '../../src/ca/files.ts';
import { CachingReviewer, KubeTokenReviewer } from '../../src/ca/reviewer.ts';
import { CaServer } from '../../src/ca/server.ts';
import { Signer } from '../../src/ca/signer.ts';
import { generateKey } from '../../src/ca/x509.ts';
import { kubeconfigFor } from '../../src/devcluster/index.ts';
import { startSecureApiServer } from '../../src/devcluster/secure.ts';
import { standinTls } from '../../src/playground/standinTls.ts';

test('a ServiceAccount token from the stand-in gets its SPIFFE certificate; another identity or a forged token does not', async (t) => {
  const cluster = await startSecureApiServer({ name: 'east', tls: standinTls('east') });
  const kc = new k8s.KubeConfig();
  kc.loadFromString(kubeconfigFor([cluster]));
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'shop' } } });
  for (const sa of ['cart', 'ads']) await core.createNamespacedServiceAccount({ namespace: 'shop', body: { metadata: { name: sa } } });
  const tokenFor = async (sa: string) =>
    (await core.createNamespacedServiceAccountToken({ name: sa, namespace: 'shop', body: { spec: { audiences: [], expirationSeconds: 600 } } })).status!.token;

  const dir = mkdtempSync(join(tmpdir(), 'ca-standin-'));
  initCa({ out: dir, clusters: ['east'] });
  const m = loadCaDir(join(dir, 'east'));
  const server = new CaServer({ signer: new Signer(m), reviewer: new CachingReviewer(new KubeTokenReviewer((c) => (c === 'east' ? kc : undefined))), trustDomain: 'cluster.local', registry: new Registry(), dnsNames: ['localhost'] });
  const port = await server.start(0, '127.0.0.1');
  t.after(async () => {
    await server.stop();
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const csrPem = buildCsr(generateKey(), ['spiffe://cluster.local/ns/shop/sa/cart']);
  const base = { address: `localhost:${port}`, caCertPem: m.rootCertPem, cluster: 'east', csrPem };
  const chain = await requestCertificate({ ...base, token: await tokenFor('cart') });
  assert.equal(new X509Certificate(chain[0]!).subjectAltName, 'URI:spiffe://cluster.local/ns/shop/sa/cart');

  const other = await requestCertificate({ ...base, token: await tokenFor('ads') }).then(() => undefined, (e: unknown) => e);
  assert.ok(other instanceof CaRequestError, 'a token for shop/ads cannot get shop/cart');
  assert.equal(other.code, grpc.status.PERMISSION_DENIED);

  const forged = await requestCertificate({ ...base, token: (await tokenFor('cart')).slice(0, -4) + 'AAAA' }).then(() => undefined, (e: unknown) => e);
  assert.ok(forged instanceof CaRequestError);
  assert.equal(forged.code, grpc.status.UNAUTHENTICATED);
});
