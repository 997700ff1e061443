import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { initCa, loadCaDir } from '../../src/ca/files.ts';
import { rotateRoot } from '../../src/ca/rotation.ts';
import { Signer } from '../../src/ca/signer.ts';
import { generateKey, keyToPem, spkiDer, splitPemChain } from '../../src/ca/x509.ts';
import { bundleConfigMap } from '../../src/ca/bundle.ts';

function leaf(signer: Signer, sa: string): { key: string; cert: string } {
  const k = generateKey();
  const chain = signer.issueLeaf(spkiDer(k.publicKey), { uris: [`spiffe://cluster.local/ns/shop/sa/${sa}`] });
  return { key: keyToPem(k.privateKey), cert: chain.slice(0, 2).join('') };
}

/** mutual TLS handshake; resolves with the SANs each side saw, rejects on a TLS error */
async function handshake(server: { key: string; cert: string }, client: { key: string; cert: string }, ca: string): Promise<[string, string]> {
  let serverSaw = '';
  const srv = tls.createServer({ ...server, ca, requestCert: true, rejectUnauthorized: true }, (s) => { serverSaw = s.getPeerCertificate().subjectaltname ?? ''; s.end('x'); });
  srv.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  try {
    const port = (srv.address() as { port: number }).port;
    const clientSaw = await new Promise<string>((res, rej) => {
      const c = tls.connect({ host: '127.0.0.1', port, ...client, ca, checkServerIdentity: () => undefined }, () => res(c.getPeerCertificate().subjectaltname ?? ''));
      c.on('error', rej);
      c.on('data', () => c.end());
    });
    for (let i = 0; i < 50 && !serverSaw; i++) await new Promise((r) => setTimeout(r, 10));
    return [serverSaw, clientSaw];
  } finally {
    srv.close();
  }
}

test('rotate-root: during the overlap old-chain and new-chain certs handshake both ways with the bundle', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ca-rot-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  initCa({ out: dir, clusters: ['east'] });
  const oldRoot = readFileSync(join(dir, 'root-cert.pem'), 'utf8');
  const oldSigner = new Signer(loadCaDir(join(dir, 'east')));
  const r = rotateRoot(dir);
  assert.deepEqual(r.clusters, ['east']);
  const newRoot = readFileSync(join(dir, 'root-cert.pem'), 'utf8');
  assert.notEqual(newRoot, oldRoot);
  const bundle = readFileSync(r.bundlePath, 'utf8');
  assert.deepEqual(splitPemChain(bundle).map((s) => s.trim()).sort(), [oldRoot.trim(), newRoot.trim()].sort());
  assert.equal(readFileSync(join(dir, 'east', 'root-cert.pem'), 'utf8'), bundle, 'cluster root-cert.pem carries the bundle');
  assert.equal(readFileSync(join(r.archived, 'root-cert.pem'), 'utf8'), oldRoot, 'old root archived');
  const newSigner = new Signer(loadCaDir(join(dir, 'east')));
  const oldCert = leaf(oldSigner, 'old');
  const newCert = leaf(newSigner, 'new');
  assert.deepEqual(await handshake(oldCert, newCert, bundle), ['URI:spiffe://cluster.local/ns/shop/sa/new', 'URI:spiffe://cluster.local/ns/shop/sa/old']);
  assert.deepEqual(await handshake(newCert, oldCert, bundle), ['URI:spiffe://cluster.local/ns/shop/sa/old', 'URI:spiffe://cluster.local/ns/shop/sa/new']);
  // without the overlap (new root only) the old-chain client is refused: the bundle is what makes it work
  await assert.rejects(handshake(oldCert, newCert, newRoot));
  // the ConfigMap published for the overlap carries both roots
  const cm = bundleConfigMap('shop', splitPemChain(bundle));
  assert.equal(cm.metadata?.name, 'meshfed-root-cert');
  assert.equal(splitPemChain(cm.data?.['root-cert.pem'] ?? '').length, 2);
  // a second rotation keeps the bundle growing only with roots still in force, no duplicates
  const r2 = rotateRoot(dir);
  assert.equal(splitPemChain(readFileSync(r2.bundlePath, 'utf8')).length, 3);
});
