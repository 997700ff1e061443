import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callerFromXfcc, echoAddress, startEcho } from '../../src/demo/echo.ts';

test('echo replies with who answered and who called', async () => {
  const server = await startEcho({ cluster: 'east-1', region: 'us-east', zone: 'us-east-1a', pod: 'echo-1' }, { host: '127.0.0.1', port: 0 });
  try {
    const res = await fetch(`http://${echoAddress(server)}/hello`, {
      headers: { 'x-forwarded-client-cert': 'By=spiffe://cluster.local/ns/demo/sa/echo;URI=spiffe://cluster.local/ns/demo/sa/client', 'x-request-id': 'r1' },
    });
    const body = (await res.json()) as Record<string, string>;
    assert.equal(body.cluster, 'east-1');
    assert.equal(body.zone, 'us-east-1a');
    assert.equal(body.path, '/hello');
    assert.equal(body.caller, 'spiffe://cluster.local/ns/demo/sa/client');
    assert.equal(body.requestId, 'r1');
  } finally {
    server.close();
  }
});

test('XFCC parsing takes the last element and ignores a missing URI', () => {
  assert.equal(callerFromXfcc('URI=spiffe://a/ns/x/sa/y,By=b;URI=spiffe://a/ns/p/sa/q'), 'spiffe://a/ns/p/sa/q');
  assert.equal(callerFromXfcc('By=spiffe://a/ns/x/sa/y;Hash=abc'), undefined);
  assert.equal(callerFromXfcc(undefined), undefined);
});
