import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renewDelayMs, credentialsFromChain } from '../../src/proxy/identity.ts';
import { meshCa } from '../helpers/tlsCerts.ts';

test('renewal is scheduled at half-life, and immediately-ish when already past it', () => {
  assert.equal(renewDelayMs(0, 3600_000, 0), 1800_000);
  assert.equal(renewDelayMs(0, 3600_000, 1000_000), 800_000);
  assert.equal(renewDelayMs(0, 3600_000, 3000_000), 1000);
});

test('chain [leaf, root] → leaf as cert, root as trust bundle, expiry from the leaf', () => {
  const ca = meshCa();
  const leaf = ca.leaf('spiffe://cluster.local/ns/demo/sa/a');
  const c = credentialsFromChain(leaf.key, [leaf.cert, ca.root]);
  assert.equal(c.ca, ca.root);
  assert.equal(c.cert.trim(), leaf.cert.trim());
  assert.ok(c.notAfter > Date.now());
  assert.throws(() => credentialsFromChain(leaf.key, []), /empty certificate chain/);
});
