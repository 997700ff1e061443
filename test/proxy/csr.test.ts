import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { buildCsr, newWorkloadKey } from '../../src/proxy/csr.ts';

test('CSR: openssl verifies its signature and sees the SPIFFE URI SAN and a P-256 key', () => {
  const k = newWorkloadKey();
  const id = 'spiffe://cluster.local/ns/demo/sa/a-long-service-account-name-to-cross-the-128-byte-length-form';
  const pem = buildCsr(k.privateKey, id);
  const text = execFileSync('openssl', ['req', '-verify', '-noout', '-text'], { input: pem, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
  assert.match(text, new RegExp(`URI:${id.replace(/[.]/g, '\\.')}`));
  assert.match(text, /prime256v1|P-256/);
  assert.throws(() => buildCsr(k.privateKey, 'https://not-spiffe'), /not a SPIFFE ID/);
});
