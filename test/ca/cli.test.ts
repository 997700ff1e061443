import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { meshfed } from '../helpers/meshfed.ts';

test('ca init writes the Istio plug-in layout with 0600 keys and a verifiable chain; refuses to overwrite keys', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ca-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = await meshfed(['ca', 'init', '--out', dir, '--clusters', 'east,west', '--org', 'Acme']);
  assert.equal(r.code, 0, r.stderr);
  for (const f of ['root-key.pem', 'east/ca-key.pem', 'west/ca-key.pem']) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
  for (const c of ['east', 'west']) {
    const im = new X509Certificate(readFileSync(join(dir, c, 'ca-cert.pem')));
    assert.ok(im.ca);
    assert.match(im.subject, /O=Acme/);
    assert.equal(readFileSync(join(dir, c, 'root-cert.pem'), 'utf8'), readFileSync(join(dir, 'root-cert.pem'), 'utf8'));
    assert.match(readFileSync(join(dir, c, 'cert-chain.pem'), 'utf8'), /END CERTIFICATE-----\n-----BEGIN CERTIFICATE/);
    const out = execFileSync('openssl', ['verify', '-x509_strict', '-CAfile', join(dir, 'root-cert.pem'), join(dir, c, 'ca-cert.pem')]).toString();
    assert.match(out, /OK/);
  }
  const rootBefore = readFileSync(join(dir, 'root-key.pem'), 'utf8');
  const again = await meshfed(['ca', 'init', '--out', dir, '--clusters', 'east']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /refusing to overwrite.*--force/);
  assert.equal(readFileSync(join(dir, 'root-key.pem'), 'utf8'), rootBefore, 'key untouched');
  const forced = await meshfed(['ca', 'init', '--out', dir, '--clusters', 'east', '--force', '--key-type', 'rsa-2048']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.notEqual(readFileSync(join(dir, 'root-key.pem'), 'utf8'), rootBefore);
  assert.equal(new X509Certificate(readFileSync(join(dir, 'root-cert.pem'))).publicKey.asymmetricKeyType, 'rsa');
  const bad = await meshfed(['ca', 'init', '--out', dir, '--key-type', 'dsa']);
  assert.equal(bad.code, 2);
});

test('ca inspect prints roles, subject, SANs, SPIFFE ID, validity and chain order', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ca-insp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal((await meshfed(['ca', 'init', '--out', dir, '--clusters', 'east'])).code, 0);
  const { Signer } = await import('../../src/ca/signer.ts');
  const { loadCaDir } = await import('../../src/ca/files.ts');
  const { generateKey, spkiDer } = await import('../../src/ca/x509.ts');
  const chain = new Signer(loadCaDir(join(dir, 'east'))).issueLeaf(spkiDer(generateKey().publicKey), { uris: ['spiffe://cluster.local/ns/shop/sa/cart'] });
  writeFileSync(join(dir, 'chain.pem'), chain.join(''));
  const r = await meshfed(['ca', 'inspect', join(dir, 'chain.pem')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\[0\] leaf/);
  assert.match(r.stdout, /SPIFFE ID: spiffe:\/\/cluster.local\/ns\/shop\/sa\/cart/);
  assert.match(r.stdout, /\[1\] intermediate[\s\S]*subject: +O=meshfed, CN=Intermediate CA east/);
  assert.match(r.stdout, /\[2\] root/);
  assert.equal((r.stdout.match(/signed by \[\d\]/g) ?? []).length, 2);
  writeFileSync(join(dir, 'rev.pem'), [...chain].reverse().join(''));
  const rev = await meshfed(['ca', 'inspect', join(dir, 'rev.pem')]);
  assert.match(rev.stdout, /NOT signed by \[1\] — chain out of order/);
  const missing = await meshfed(['ca', 'inspect', join(dir, 'nope.pem')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read .*nope\.pem/);
});
