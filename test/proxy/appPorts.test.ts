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

test('app ports from EDS: only the endpoints at the sidecar\'s own address count; --app-ports wins over them', async () => {
  const { inboundAppPorts } = await import('../../src/proxy/sidecarXds.ts');
  const meta = (port: string) => ({ filter_metadata: { meshfed: { fields: { app_port: { stringValue: port } } } } });
  const lb = (address: string, port: string) => ({ endpoint: { address: { socket_address: { address, port_value: 15006 } } }, metadata: meta(port) });
  const fromXds = inboundAppPorts([
    { cluster_name: 'outbound|9090||b.demo.svc.cluster.local', endpoints: [{ lb_endpoints: [lb('10.0.0.7', '9000'), lb('10.0.0.8', '9100')] }] },
    { cluster_name: 'outbound|80||b.demo.svc.cluster.local', endpoints: [{ lb_endpoints: [lb('10.0.0.7', '8080')] }] },
    { cluster_name: 'outbound|80|v1|b.demo.svc.cluster.local', endpoints: [{ lb_endpoints: [lb('10.0.0.7', '1')] }] }, // subsets repeat
    { cluster_name: 'outbound|81||b.demo.svc.cluster.local', endpoints: [{ lb_endpoints: [lb('10.0.0.7', 'nope')] }] },
  ], '10.0.0.7');
  assert.deepEqual([...fromXds].sort(), [['b.demo.svc.cluster.local:80', 8080], ['b.demo.svc.cluster.local:9090', 9000]]);
  assert.equal(appPortForSni(gatewaySni('b.demo.svc.cluster.local', 9090), undefined, 1234, fromXds), 9000);
  assert.equal(appPortForSni(gatewaySni('b.demo.svc.cluster.local', 9090, 'v1'), undefined, 1234, fromXds), 9000, 'a subset SNI names the same port');
  assert.equal(appPortForSni(gatewaySni('other.demo.svc.cluster.local', 9090), undefined, 1234, fromXds), 1234);
  assert.equal(appPortForSni(gatewaySni('b.demo.svc.cluster.local', 9090), parseAppPorts('9090:7000'), 1234, fromXds), 7000, 'the operator\'s mapping wins');
});
