// KubeTokenReviewer through client-node against a minimal loopback TokenReview endpoint (the devcluster
// stand-in does not serve TokenRequest/TokenReview yet), end to end through the CA's gRPC service.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import * as k8s from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { initCa, loadCaDir } from '../../src/ca/files.ts';
import { Signer } from '../../src/ca/signer.ts';
import { CaServer } from '../../src/ca/server.ts';
import { CachingReviewer, KubeTokenReviewer } from '../../src/ca/reviewer.ts';
import { requestCertificate, CaRequestError } from '../../src/ca/client.ts';
import { buildCsr } from '../../src/ca/csr.ts';
import { generateKey } from '../../src/ca/x509.ts';

test('TokenReview via client-node: valid SA token → certificate (then cached); forged → UNAUTHENTICATED', async (t) => {
  const reviews: { auth: string | undefined; token: string }[] = [];
  const api = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url?.split('?')[0] !== '/apis/authentication.k8s.io/v1/tokenreviews') { res.writeHead(404).end(); return; }
      const tr = JSON.parse(body) as { spec: { token: string } };
      reviews.push({ auth: req.headers.authorization, token: tr.spec.token });
      const ok = tr.spec.token === 'sa-token-shop-cart';
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({
        apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: tr.spec,
        status: ok ? { authenticated: true, user: { username: 'system:serviceaccount:shop:cart' } } : { authenticated: false, error: 'invalid bearer token' },
      }));
    });
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: 'east', server: `http://127.0.0.1:${(api.address() as { port: number }).port}`, skipTLSVerify: true }], users: [{ name: 'ca', token: 'ca-reviewer-token' }], contexts: [{ name: 'east', cluster: 'east', user: 'ca' }], currentContext: 'east' });
  const dir = mkdtempSync(join(tmpdir(), 'ca-kr-'));
  initCa({ out: dir, clusters: ['east'] });
  const m = loadCaDir(join(dir, 'east'));
  const server = new CaServer({ signer: new Signer(m), reviewer: new CachingReviewer(new KubeTokenReviewer((c) => (c === 'east' ? kc : undefined))), trustDomain: 'cluster.local', registry: new Registry(), dnsNames: ['localhost'] });
  const port = await server.start(0, '127.0.0.1');
  t.after(async () => { await server.stop(); api.close(); rmSync(dir, { recursive: true, force: true }); });

  const csrPem = buildCsr(generateKey(), ['spiffe://cluster.local/ns/shop/sa/cart']);
  const base = { address: `localhost:${port}`, caCertPem: m.rootCertPem, cluster: 'east', csrPem };
  const chain = await requestCertificate({ ...base, token: 'sa-token-shop-cart' });
  assert.equal(new X509Certificate(chain[0]).subjectAltName, 'URI:spiffe://cluster.local/ns/shop/sa/cart');
  assert.deepEqual(reviews, [{ auth: 'Bearer ca-reviewer-token', token: 'sa-token-shop-cart' }], 'one TokenReview with the CA credentials');
  await requestCertificate({ ...base, token: 'sa-token-shop-cart' });
  assert.equal(reviews.length, 1, 'second request served from the positive cache');
  const err = await requestCertificate({ ...base, token: 'forged' }).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof CaRequestError);
  assert.equal(err.code, grpc.status.UNAUTHENTICATED);
  assert.match(err.message, /token rejected by cluster "east": invalid bearer token/);
  const unknown = await requestCertificate({ ...base, cluster: 'west', token: 'sa-token-shop-cart' }).then(() => undefined, (e: unknown) => e);
  assert.ok(unknown instanceof CaRequestError && unknown.code === grpc.status.UNAUTHENTICATED);
});
