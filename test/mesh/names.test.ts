import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gatewaySni, outboundClusterName, parseGatewaySni, parseOutboundClusterName, parseSpiffeId, spiffeId } from '../../src/mesh/names.ts';

test('gateway SNI is written the way Istio writes it and parses back', () => {
  const sni = gatewaySni('echo.demo.svc.cluster.local', 8080);
  assert.equal(sni, 'outbound_.8080_._.echo.demo.svc.cluster.local');
  assert.deepEqual(parseGatewaySni(sni), { host: 'echo.demo.svc.cluster.local', port: 8080, subset: '' });
  assert.deepEqual(parseGatewaySni('outbound_.9090_.v2_.echo.demo.svc.cluster.local'), { host: 'echo.demo.svc.cluster.local', port: 9090, subset: 'v2' });
});

test('malformed SNIs are not mistaken for services', () => {
  for (const bad of ['', 'echo.demo.svc.cluster.local', 'outbound_.0_._.a.b', 'outbound_.99999_._.a.b', 'outbound_.80_._.', 'inbound_.80_._.a.b', 'outbound_.80_._.a..b/']) {
    assert.equal(parseGatewaySni(bad), undefined, bad);
  }
});

test('xDS cluster names round-trip', () => {
  const n = outboundClusterName('echo.demo.svc.cluster.local', 8080, 'v1');
  assert.equal(n, 'outbound|8080|v1|echo.demo.svc.cluster.local');
  assert.deepEqual(parseOutboundClusterName(n), { host: 'echo.demo.svc.cluster.local', port: 8080, subset: 'v1' });
  assert.equal(parseOutboundClusterName('inbound|8080||x'), undefined);
});

test('SPIFFE IDs', () => {
  assert.equal(spiffeId('cluster.local', 'demo', 'echo'), 'spiffe://cluster.local/ns/demo/sa/echo');
  assert.deepEqual(parseSpiffeId('spiffe://td.example/ns/a/sa/b'), { trustDomain: 'td.example', namespace: 'a', serviceAccount: 'b' });
  assert.equal(parseSpiffeId('spiffe://td/ns/a/sa/b/extra'), undefined);
});
