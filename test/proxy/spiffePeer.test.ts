import { test } from 'node:test';
import assert from 'node:assert/strict';
import { peerSpiffeId, xfcc } from '../../src/proxy/spiffePeer.ts';

test('peer SPIFFE ID: picks the URI SAN of the trust domain, ignores others', () => {
  assert.equal(peerSpiffeId('DNS:x, URI:spiffe://cluster.local/ns/demo/sa/a', 'cluster.local'), 'spiffe://cluster.local/ns/demo/sa/a');
  assert.equal(peerSpiffeId('URI:spiffe://other.domain/ns/demo/sa/a', 'cluster.local'), undefined);
  assert.equal(peerSpiffeId('URI:https://cluster.local/ns/demo/sa/a', 'cluster.local'), undefined);
  assert.equal(peerSpiffeId(undefined, 'cluster.local'), undefined);
  assert.equal(xfcc('spiffe://td/ns/n/sa/b', 'spiffe://td/ns/n/sa/a'), 'By=spiffe://td/ns/n/sa/b;URI=spiffe://td/ns/n/sa/a');
});
