import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appPortForSni, parseAppPorts, parseLabels } from '../../src/proxy/appPorts.ts';
import { gatewaySni } from '../../src/mesh/names.ts';

test('--app-ports parses SERVICE:APP pairs and rejects bad entries with the entry named', () => {
  assert.deepEqual([...parseAppPorts('8080:80, 9090:9000')], [[8080, 80], [9090, 9000]]);
  assert.equal(parseAppPorts('').size, 0);
  assert.throws(() => parseAppPorts('8080'), /"8080" is not SERVICE_PORT:APP_PORT/);
  assert.throws(() => parseAppPorts('8080:70000'), /8080:70000/);
  assert.throws(() => parseAppPorts('1:2,1:3'), /service port 1 twice/);
});

test('the inbound app port follows the service port in the caller\'s SNI, else the default', () => {
  const ports = parseAppPorts('8080:80,9090:9000');
  assert.equal(appPortForSni(gatewaySni('b.demo.svc.cluster.local', 9090), ports, 1234), 9000);
  assert.equal(appPortForSni(gatewaySni('b.demo.svc.cluster.local', 8080), ports, 1234), 80);
  assert.equal(appPortForSni(gatewaySni('b.demo.svc.cluster.local', 7070), ports, 1234), 1234);
  assert.equal(appPortForSni('b.example', ports, 1234), 1234);
  assert.equal(appPortForSni(false, ports, 1234), 1234);
  assert.equal(appPortForSni(gatewaySni('b', 9090), undefined, 1234), 1234);
});

test('--labels: KEY=VALUE pairs in Kubernetes label syntax; a bad entry is named', () => {
  assert.deepEqual(parseLabels('app=web, version=v2,topology.kubernetes.io/zone=us-east-1a'), { app: 'web', version: 'v2', 'topology.kubernetes.io/zone': 'us-east-1a' });
  assert.deepEqual(parseLabels(''), {});
  assert.throws(() => parseLabels('app=web,oops'), /"oops" is not KEY=VALUE/);
  assert.throws(() => parseLabels('app=a b'), /"app=a b"/);
});
