// Loading the signing intermediate from an Istio plug-in directory: good material signs; each broken part is named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, unlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { CaFileError, initCa, loadSigningCa } from '../../src/ca/files.ts';
import { generateKey, keyToPem, spkiDer } from '../../src/ca/x509.ts';

function fixture(t: { after(fn: () => void): void }): { root: string; east: string; west: string } {
  const root = mkdtempSync(join(tmpdir(), 'ca-plugin-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  initCa({ out: root, clusters: ['east', 'west'] });
  return { root, east: join(root, 'east'), west: join(root, 'west') };
}

test('plug-in dir: signer issues leaves chained to the root; roots are the bundle', async (t) => {
  const f = fixture(t);
  const ca = await loadSigningCa({ dir: f.east, trustDomain: 'cluster.local' });
  assert.equal(ca.source, 'dir');
  const rootPem = readFileSync(join(f.root, 'root-cert.pem'), 'utf8');
  assert.deepEqual(ca.roots, [rootPem]);
  const chain = ca.signer.issueLeaf(spkiDer(generateKey().publicKey), { uris: ['spiffe://cluster.local/ns/a/sa/b'] });
  const leaf = new X509Certificate(chain[0]);
  assert.ok(leaf.verify(new X509Certificate(readFileSync(join(f.east, 'ca-cert.pem'))).publicKey));
  assert.equal(chain[chain.length - 1].trim(), rootPem.trim());
});

test('plug-in dir: missing file, mismatched key, expired intermediate, foreign root → errors naming the file', async (t) => {
  const f = fixture(t);
  const load = (now?: number): Promise<unknown> => loadSigningCa({ dir: f.east, trustDomain: 'cluster.local', ...(now ? { now } : {}) });

  // expired: a year and a bit later the 365-day intermediate is out of date
  await assert.rejects(load(Date.now() + 400 * 86400_000), (e: Error) => e instanceof CaFileError && /ca-cert\.pem expired on/.test(e.message) && e.message.includes(f.east));

  // foreign root: west's root file swapped for a freshly made, unrelated root
  const other = mkdtempSync(join(tmpdir(), 'ca-other-'));
  t.after(() => rmSync(other, { recursive: true, force: true }));
  initCa({ out: other });
  copyFileSync(join(f.east, 'root-cert.pem'), join(other, 'keep.pem'));
  writeFileSync(join(f.east, 'root-cert.pem'), readFileSync(join(other, 'root-cert.pem')));
  writeFileSync(join(f.east, 'cert-chain.pem'), readFileSync(join(f.east, 'ca-cert.pem')));
  await assert.rejects(load(), /ca-cert\.pem is not signed by any certificate in .*cert-chain\.pem or .*root-cert\.pem/);
  copyFileSync(join(other, 'keep.pem'), join(f.east, 'root-cert.pem'));
  copyFileSync(join(f.west, 'cert-chain.pem'), join(f.east, 'cert-chain.pem'));
  await load(); // restored: loads again

  // mismatched key: west's key with east's certificate
  copyFileSync(join(f.west, 'ca-key.pem'), join(f.east, 'ca-key.pem'));
  await assert.rejects(load(), (e: Error) => e instanceof CaFileError && e.message.includes(join(f.east, 'ca-key.pem')) && /does not match/.test(e.message));
  writeFileSync(join(f.east, 'ca-key.pem'), keyToPem(generateKey().privateKey));
  await assert.rejects(load(), /ca-key\.pem does not match/);
  writeFileSync(join(f.east, 'ca-key.pem'), 'not a key');
  await assert.rejects(load(), /ca-key\.pem is not a readable private key/);

  // missing file
  unlinkSync(join(f.east, 'cert-chain.pem'));
  await assert.rejects(load(), (e: Error) => e instanceof CaFileError && e.message.includes(join(f.east, 'cert-chain.pem')) && /Istio plug-in layout/.test(e.message));
});
