// Loading the signing intermediate from the Secret meshfed-system/cacerts in a (stand-in) cluster.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { startClusters, kubeconfigFor } from '../../src/devcluster/index.ts';
import { initCa, loadSigningCa } from '../../src/ca/files.ts';
import { generateKey, spkiDer } from '../../src/ca/x509.ts';
import { standinTls } from '../../src/playground/standinTls.ts';

test('signing CA from Secret cacerts; dev root (with a warning) when the Secret is absent', async (t) => {
  const [srv] = await startClusters([{ name: 'east', tls: standinTls('east') }]);
  const dir = mkdtempSync(join(tmpdir(), 'ca-load-'));
  t.after(async () => { await srv.close(); rmSync(dir, { recursive: true, force: true }); });
  const kc = new k8s.KubeConfig();
  kc.loadFromString(kubeconfigFor([srv]));
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const warnings: string[] = [];
  const log = { warn: (_o: unknown, m: string) => warnings.push(m) } as never;
  const dev = await loadSigningCa({ kubeConfig: kc, trustDomain: 'cluster.local', log });
  assert.equal(dev.source, 'dev');
  assert.match(warnings.join('\n'), /DEVELOPMENT root/);

  initCa({ out: dir, clusters: ['east'] });
  const data = Object.fromEntries(['ca-cert.pem', 'ca-key.pem', 'cert-chain.pem', 'root-cert.pem'].map((f) => [f, readFileSync(join(dir, 'east', f)).toString('base64')]));
  await core.createNamespace({ body: { metadata: { name: 'meshfed-system' } } }).catch(() => undefined);
  await core.createNamespacedSecret({ namespace: 'meshfed-system', body: { metadata: { name: 'cacerts' }, data } });
  const fromSecret = await loadSigningCa({ kubeConfig: kc, trustDomain: 'cluster.local', log });
  assert.equal(fromSecret.source, 'secret');
  assert.deepEqual(fromSecret.roots, [readFileSync(join(dir, 'root-cert.pem'), 'utf8')]);
  const chain = fromSecret.signer.issueLeaf(spkiDer(generateKey().publicKey), { uris: ['spiffe://cluster.local/ns/a/sa/b'] });
  assert.ok(new X509Certificate(chain[0]).verify(new X509Certificate(readFileSync(join(dir, 'east', 'ca-cert.pem'))).publicKey));
  assert.equal(chain[chain.length - 1].trim(), readFileSync(join(dir, 'root-cert.pem'), 'utf8').trim());
});
