// CSR public keys: P-256/P-384 read from their coordinates, other curves and off-curve points rejected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { buildCsr, CsrError, parseCsr } from '../../src/ca/csr.ts';
import * as der from '../../src/ca/der.ts';

const id = 'spiffe://cluster.local/ns/a/sa/b';

test('P-256 and P-384 CSRs parse to the same key they were made with', () => {
  for (const namedCurve of ['prime256v1', 'secp384r1']) {
    const k = generateKeyPairSync('ec', { namedCurve });
    const c = parseCsr(buildCsr(k, [id]));
    assert.deepEqual(c.uris, [id]);
    assert.ok(c.publicKey.equals(k.publicKey), namedCurve);
    assert.equal(c.publicKey.asymmetricKeyDetails?.namedCurve, namedCurve);
  }
});

test('other curves are refused by name; a point off the curve is refused', () => {
  const k521 = generateKeyPairSync('ec', { namedCurve: 'secp521r1' });
  assert.throws(() => parseCsr(buildCsr(k521, [id])), (e: Error) => e instanceof CsrError && /secp521r1 not accepted/.test(e.message));
  const k256k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
  assert.throws(() => parseCsr(buildCsr(k256k1, [id])), /secp256k1 not accepted/);

  // flip a byte of Y inside the SPKI: the request no longer carries a valid P-256 point
  const csr = der.pemToDer(buildCsr(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }), [id]), 'CERTIFICATE REQUEST');
  const spkiAt = csr.indexOf(Buffer.from([0x03, 0x42, 0x00, 0x04]));
  assert.ok(spkiAt > 0);
  csr[spkiAt + 4 + 63] ^= 0x01;
  assert.throws(() => parseCsr(der.derToPem(csr, 'CERTIFICATE REQUEST')), (e: Error) => e instanceof CsrError && /public key unreadable|does not verify/.test(e.message));
});
