// The one CSR builder (ca/csr.ts) as the sidecar uses it: openssl reads what it builds, the CA's parser agrees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { parseCsr, workloadCsr } from '../../src/ca/csr.ts';
import { generateKey } from '../../src/ca/x509.ts';

test('workload CSR: openssl verifies its signature and sees the SPIFFE URI SAN and a P-256 key; the CA parses the same ID', () => {
  const k = generateKey();
  const id = 'spiffe://cluster.local/ns/demo/sa/a-long-service-account-name-to-cross-the-128-byte-length-form';
  const pem = workloadCsr(k, id);
  const text = execFileSync('openssl', ['req', '-verify', '-noout', '-text'], { input: pem, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
  assert.match(text, new RegExp(`URI:${id.replace(/[.]/g, '\\.')}`));
  assert.match(text, /prime256v1|P-256/);
  const parsed = parseCsr(pem);
  assert.deepEqual(parsed.uris, [id]);
  assert.ok(parsed.publicKey.equals(k.publicKey));
});

test('workload CSR: an ID that is not spiffe://… is refused by name before anything is sent', () => {
  const k = generateKey();
  assert.throws(() => workloadCsr(k, 'https://not-spiffe'), /"https:\/\/not-spiffe" is not a SPIFFE ID/);
  assert.throws(() => workloadCsr(k, 'spiffe://cluster.local/ns/a b'), /is not a SPIFFE ID/);
});
