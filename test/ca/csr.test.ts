// CSR checks: the EC fast key import accepts exactly what the generic path accepts and rejects bad points.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { buildCsr, CsrError, importSpki, parseCsr } from '../../src/ca/csr.ts';
import { generateKey, spkiDer } from '../../src/ca/x509.ts';
import * as der from '../../src/ca/der.ts';

const id = 'spiffe://cluster.local/ns/a/sa/b';

test('P-256, P-384 and RSA-2048 CSRs parse with their SAN and a key equal to the SPKI', () => {
  for (const k of [generateKey(), generateKeyPairSync('ec', { namedCurve: 'secp384r1' }), generateKey('rsa-2048')]) {
    const p = parseCsr(buildCsr(k, [id]));
    assert.deepEqual(p.uris, [id]);
    assert.ok(spkiDer(p.publicKey).equals(spkiDer(k.publicKey)));
  }
});

test('secp256k1 and RSA-1024 keys are refused with the reason', () => {
  assert.throws(() => importSpki(spkiDer(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey)), (e: Error) => e instanceof CsrError && /curve/.test(e.message));
  assert.throws(() => importSpki(spkiDer(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey)), (e: Error) => e instanceof CsrError && /1024 bits/.test(e.message));
});

test('a P-256 point that is not on the curve is refused', () => {
  const spki = Buffer.from(spkiDer(generateKey().publicKey));
  spki[spki.length - 1] ^= 0x01; // flips y: (x, y') is not on the curve
  assert.throws(() => importSpki(spki), (e: Error) => e instanceof CsrError && /unreadable/.test(e.message));
});

test('a CSR whose self-signature does not match its key is refused', () => {
  const k = generateKey();
  const other = generateKey();
  const pem = buildCsr(k, [id]);
  const top = der.children(der.read(der.pemToDer(pem, 'CERTIFICATE REQUEST')));
  const forged = der.seq(top[0].raw, top[1].raw, der.bits(sign('sha256', top[0].raw, other.privateKey)));
  assert.throws(() => parseCsr(der.derToPem(forged, 'CERTIFICATE REQUEST')), (e: Error) => e instanceof CsrError && /does not verify/.test(e.message));
});
