import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { kubeconfigFor, startApiServer, type ApiServer } from '../../src/devcluster/index.ts';
import { meshfed } from '../helpers/meshfed.ts';
import { standinTls } from '../../src/playground/standinTls.ts';

let server: ApiServer;
let kcFile: string;

before(async () => {
  server = await startApiServer({ name: 'install-test', tls: standinTls('install-test') });
  kcFile = join(mkdtempSync(join(tmpdir(), 'meshfed-install-')), 'kubeconfig');
  writeFileSync(kcFile, kubeconfigFor([server]));
});
after(async () => server.close());

test('meshfed install applies the control plane; a second run changes nothing', async () => {
  const first = await meshfed(['install', '--kubeconfig', kcFile, '--component', 'control-plane']);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /deployment\/meshfed-control-plane -n meshfed-system created/);
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kcFile);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const dep = await apps.readNamespacedDeployment({ name: 'meshfed-control-plane', namespace: 'meshfed-system' });
  assert.deepEqual(dep.spec?.template.spec?.containers[0]?.args?.slice(0, 1), ['control-plane']);
  const svc = await kc.makeApiClient(k8s.CoreV1Api).readNamespacedService({ name: 'meshfed', namespace: 'meshfed-system' });
  assert.deepEqual(svc.spec?.ports?.map((p) => p.port), [15010, 15012, 15014]);
  const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  const role = await rbac.readClusterRole({ name: 'meshfed-control-plane' });
  assert.ok(role.rules?.some((r) => r.resources?.includes('tokenreviews') && r.verbs.includes('create')));
  assert.ok(!role.rules?.some((r) => r.resources?.includes('secrets')), 'secrets are readable only in meshfed-system, through a Role');

  const second = await meshfed(['install', '--kubeconfig', kcFile, '--component', 'control-plane']);
  assert.equal(second.code, 0, second.stderr);
  assert.doesNotMatch(second.stdout, /created|configured/);
});

test('meshfed install of a gateway labels its Service with the network; missing flags are a usage error', async () => {
  const r = await meshfed(['install', '--kubeconfig', kcFile, '--component', 'gateway', '--network', 'net-west', '--region', 'us-west']);
  assert.equal(r.code, 0, r.stderr);
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kcFile);
  const svc = await kc.makeApiClient(k8s.CoreV1Api).readNamespacedService({ name: 'meshfed-eastwestgateway', namespace: 'meshfed-system' });
  assert.equal(svc.metadata?.labels?.['topology.istio.io/network'], 'net-west');
  assert.equal(svc.metadata?.labels?.['meshfed.io/gateway'], 'eastwest');
  assert.equal(svc.spec?.ports?.[0]?.port, 15443);
  const bad = await meshfed(['install', '--kubeconfig', kcFile, '--component', 'gateway']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /needs --network and --region/);
});

test('meshfed install with a broken kubeconfig says what to fix', async () => {
  const broken = join(mkdtempSync(join(tmpdir(), 'meshfed-install-')), 'broken');
  writeFileSync(broken, 'this: [is not a kubeconfig');
  const r = await meshfed(['install', '--kubeconfig', broken]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot load kubeconfig .*broken/);
});
