import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeKubeconfig } from '../../src/devcluster/kubeconfigFile.ts';
import { startSecureApiServer } from '../../src/devcluster/secure.ts';
import { KUBECTL_MISSING, kubectl } from '../helpers/kubectl.ts';
import { standinTls } from '../../src/playground/standinTls.ts';

test('kubectl --as impersonates: a ServiceAccount is judged by RBAC, not as the admin who asked', { skip: KUBECTL_MISSING }, async () => {
  const server = await startSecureApiServer({ name: 'imp', tls: standinTls('imp') });
  const kc = join(mkdtempSync(join(tmpdir(), 'meshfed-imp-')), 'kubeconfig');
  writeKubeconfig(kc, [server]);
  try {
    const asAdmin = await kubectl(kc, ['auth', 'can-i', 'list', 'secrets']);
    assert.equal(asAdmin.stdout.trim(), 'yes');
    const asSa = await kubectl(kc, ['auth', 'can-i', 'list', 'secrets', '--as=system:serviceaccount:default:default']);
    assert.equal(asSa.stdout.trim(), 'no');
    const get = await kubectl(kc, ['get', 'pods', '--as=system:serviceaccount:default:default']);
    assert.notEqual(get.code, 0);
    assert.match(get.stderr, /pods is forbidden: User "system:serviceaccount:default:default" cannot list resource "pods" in API group "" in the namespace "default"/);
  } finally {
    await server.close();
  }
});
