// `meshfed proxyless-bootstrap` as a pod's init step runs it: the downward API's values in the environment, the
// bootstrap on stdout naming the control plane's Service (grpc-js-xds reads this very shape in test/pilot/grpc-xds).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { meshfed } from '../helpers/meshfed.ts';

test('the bootstrap names the control plane Service and the pod as Istio names it, from the downward API', async () => {
  const r = await meshfed(['proxyless-bootstrap', '--cluster', 'east-1', '--network', 'net-east', '--region', 'us-east', '--zone', 'a'],
    { env: { ...process.env, POD_NAME: 'checkout-7d9', POD_NAMESPACE: 'shop', INSTANCE_IP: '10.1.2.3' } });
  assert.equal(r.code, 0, r.stderr);
  const b = JSON.parse(r.stdout) as { xds_servers: { server_uri: string }[]; node: { id: string; locality: object; metadata: Record<string, string> } };
  assert.deepEqual(b.xds_servers.map((s) => s.server_uri), ['meshfed.meshfed-system.svc:15010']);
  assert.equal(b.node.id, 'sidecar~10.1.2.3~checkout-7d9.shop~shop.svc.cluster.local');
  assert.deepEqual(b.node.locality, { region: 'us-east', zone: 'a' });
  assert.deepEqual(b.node.metadata, { GENERATOR: 'grpc', MESHFED_ROLE: 'proxyless', CLUSTER_ID: 'east-1', NETWORK: 'net-east' });
});

test('without a pod name or address it says what to give, exit 2; a bad --xds is named', async () => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !['POD_NAME', 'INSTANCE_IP', 'POD_IP'].includes(k)));
  const r = await meshfed(['proxyless-bootstrap'], { env });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--pod and --pod-ip/);
  const bad = await meshfed(['proxyless-bootstrap', '--node-id', 'x', '--xds', 'meshfed-no-port'], { env });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--xds/);
});
