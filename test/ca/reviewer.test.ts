import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CachingReviewer, identityFromUsername, KubeTokenReviewer, type TokenReviewer } from '../../src/ca/reviewer.ts';
import { checkIdentity } from '../../src/ca/server.ts';
import * as grpc from '@grpc/grpc-js';
import { Signer } from '../../src/ca/signer.ts';
import { devCa } from '../../src/ca/files.ts';
import { X509Certificate } from 'node:crypto';
import { generateKey, spkiDer } from '../../src/ca/x509.ts';

test('identityFromUsername accepts only ServiceAccount users', () => {
  assert.deepEqual(identityFromUsername('system:serviceaccount:shop:cart'), { namespace: 'shop', serviceAccount: 'cart' });
  assert.ok('reason' in identityFromUsername('alice'));
  assert.ok('reason' in identityFromUsername(undefined));
});

test('CachingReviewer caches positive reviews for the TTL only, never negative ones, bounded size', async () => {
  let calls = 0;
  let now = 0;
  const inner: TokenReviewer = { async review(_c, tok) { calls++; return tok.startsWith('ok') ? { namespace: 'ns', serviceAccount: tok } : { reason: 'no' }; } };
  const r = new CachingReviewer(inner, 60_000, 2, () => now);
  await r.review('east', 'ok1'); await r.review('east', 'ok1');
  assert.equal(calls, 1, 'second positive review from cache');
  await r.review('west', 'ok1');
  assert.equal(calls, 2, 'cache key includes the cluster');
  await r.review('east', 'bad'); await r.review('east', 'bad');
  assert.equal(calls, 4, 'negative results not cached');
  await r.review('east', 'ok3');
  assert.equal(r.size, 2, 'bounded');
  now = 61_000;
  await r.review('east', 'ok3');
  assert.equal(calls, 6, 'expired entry reviewed again');
});

test('KubeTokenReviewer: unknown cluster and unreachable API are reasons, not exceptions', async () => {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }], users: [{ name: 'u', token: 't' }], contexts: [{ name: 'c', cluster: 'c', user: 'u' }], currentContext: 'c' });
  const r = new KubeTokenReviewer((c) => (c === 'east' ? kc : undefined));
  const reason = async (c: string): Promise<string> => { const x = await r.review(c, 'tok'); assert.ok('reason' in x); return x.reason; };
  assert.match(await reason('nowhere'), /unknown cluster "nowhere"/);
  assert.match(await reason('east'), /TokenReview in cluster "east" failed/);
  // an API server that never answers: a reason after the timeout, not a hung request
  const net = await import('node:net');
  const sockets: import('node:net').Socket[] = [];
  const silent = net.createServer((s) => { sockets.push(s); });
  await new Promise<void>((res) => silent.listen(0, '127.0.0.1', res));
  const kc2 = new k8s.KubeConfig();
  kc2.loadFromOptions({ clusters: [{ name: 'c', server: `https://127.0.0.1:${(silent.address() as { port: number }).port}`, skipTLSVerify: true }], users: [{ name: 'u', token: 't' }], contexts: [{ name: 'c', cluster: 'c', user: 'u' }], currentContext: 'c' });
  const slow = new KubeTokenReviewer(() => kc2, undefined, 200);
  const x = await slow.review('hung', 'tok');
  sockets.forEach((s) => s.destroy());
  silent.close();
  assert.ok('reason' in x && /no answer within 200 ms/.test(x.reason), JSON.stringify(x));
});

test('checkIdentity requires exactly the caller SPIFFE ID', () => {
  const want = 'spiffe://td/ns/a/sa/b';
  assert.equal(checkIdentity([want], [], want).ok, true);
  for (const [uris, dns] of [[[], []], [['spiffe://td/ns/a/sa/c'], []], [[want, 'spiffe://td/ns/x/sa/y'], []], [[want], ['evil.example']]] as [string[], string[]][]) {
    const d = checkIdentity(uris, dns, want);
    assert.equal(d.ok, false);
    if (!d.ok) assert.equal(d.code, grpc.status.PERMISSION_DENIED);
  }
});

test('leaf validity: default 24 h, capped by max, never past the intermediate; backdated 1 min', () => {
  const s = new Signer(devCa({ warn: () => undefined } as never), 48 * 3600);
  const spki = spkiDer(generateKey().publicKey);
  const span = (v?: number): number => { const x = new X509Certificate(s.issueLeaf(spki, { uris: ['spiffe://td/ns/a/sa/b'] }, { validitySeconds: v })[0]); return (Date.parse(x.validTo) - Date.parse(x.validFrom)) / 1000; };
  assert.equal(span(), 24 * 3600 + 60);
  assert.equal(span(3600), 3600 + 60);
  assert.equal(span(10 * 24 * 3600), 48 * 3600 + 60);
  const far = s.window({ validitySeconds: 10 * 24 * 3600, now: s.notAfter - 3600_000 });
  assert.equal(far.notAfter.getTime(), s.notAfter, 'clamped to the intermediate notAfter');
});
