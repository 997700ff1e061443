// Changing a Deployment the everyday ways, with whichever kubectl MESHFED_KUBECTL names (1.32 and 1.20 in CI):
// apply of a changed manifest (strategic merge patch for apps/v1), set image, set env, rollout restart, edit, diff,
// apply --server-side after a client-side apply (kubectl takes the fields over), explain at depth, nested validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KUBECTL, KUBECTL_MISSING, kubectl, run } from '../helpers/kubectl.ts';
import { useKubectlStandin } from '../helpers/kubectlStandin.ts';

const skip = KUBECTL_MISSING;
const standin = useKubectlStandin('apply', 'meshfed-kubectl-apply-');
const { k, ok } = standin;
const manifest = (image: string, replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: default }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
      - name: web
        image: ${image}
        env: [{ name: A, value: "1" }]
        volumeMounts: [{ name: data, mountPath: /data }]
      volumes: [{ name: data, emptyDir: {} }]
`;

const field = (path: string) => ok('get', 'deploy', 'web', '-o', `jsonpath=${path}`);

test('apply a changed Deployment, set image/env, rollout restart, edit', { skip }, async () => {
  writeFileSync(join(standin.dir, 'd.yaml'), manifest('nginx:1.26', 2));
  assert.match(await ok('apply', '-f', join(standin.dir, 'd.yaml')), /deployment.apps\/web created/);
  writeFileSync(join(standin.dir, 'd.yaml'), manifest('nginx:1.27', 3));
  assert.match(await ok('apply', '-f', join(standin.dir, 'd.yaml')), /deployment.apps\/web configured/);
  assert.equal(await field('{.spec.replicas} {.spec.template.spec.containers[0].image}'), '3 nginx:1.27');
  assert.match(await ok('apply', '-f', join(standin.dir, 'd.yaml')), /deployment.apps\/web unchanged/);
  await ok('set', 'image', 'deploy/web', 'web=nginx:1.28');
  await ok('set', 'env', 'deploy/web', 'B=2');
  await ok('rollout', 'restart', 'deploy/web');
  assert.equal(await field('{.spec.template.spec.containers[0].image}'), 'nginx:1.28');
  assert.deepEqual(JSON.parse(await field('{.spec.template.spec.containers[0].env}')), [{ name: 'A', value: '1' }, { name: 'B', value: '2' }]);
  assert.match(await field('{.spec.template.metadata.annotations}'), /kubectl.kubernetes.io\/restartedAt/);
  assert.deepEqual(JSON.parse(await field('{.spec.template.spec.containers[0].volumeMounts}')), [{ mountPath: '/data', name: 'data' }]);
  const editor = join(standin.dir, 'editor.sh');
  writeFileSync(editor, '#!/bin/sh\nsed -i "s/replicas: 3/replicas: 4/" "$1"\n', { mode: 0o755 });
  const edited = await run(KUBECTL, ['--kubeconfig', standin.kc, 'edit', 'deploy/web'], undefined, { ...process.env, EDITOR: editor, KUBE_EDITOR: editor });
  assert.equal(edited.code, 0, edited.stderr);
  assert.equal(await field('{.spec.replicas}'), '4');
  assert.match(await ok('rollout', 'status', 'deploy/web', '--timeout=20s'), /successfully rolled out/);
});

test('diff shows the change; apply --server-side after client-side apply takes the fields over', { skip }, async () => {
  writeFileSync(join(standin.dir, 'd.yaml'), manifest('nginx:1.29', 5));
  const diff = await k('diff', '-f', join(standin.dir, 'd.yaml'));
  assert.equal(diff.code, 1, diff.stderr); // 1: differences found
  assert.match(diff.stdout, /-\s+image: nginx:1.28\n\+\s+image: nginx:1.29/);
  // a real kube-apiserver lets manager "kubectl" take over what the last-applied annotation lists (no 409)
  assert.match(await ok('apply', '--server-side', '-f', join(standin.dir, 'd.yaml')), /deployment.apps\/web serverside-applied/);
  assert.equal(await field('{.spec.replicas} {.spec.template.spec.containers[0].image}'), '5 nginx:1.29');
  // a field another manager owns that the annotation does not list still conflicts
  await ok('annotate', 'deploy/web', 'owner=someone-else');
  writeFileSync(join(standin.dir, 'd2.yaml'), manifest('nginx:1.29', 5).replace('namespace: default }', 'namespace: default, annotations: { owner: me } }'));
  const conflict = await k('apply', '--server-side', '-f', join(standin.dir, 'd2.yaml'));
  assert.notEqual(conflict.code, 0);
  assert.match(conflict.stderr, /conflict with "kubectl-annotate"/);
});

test('explain goes below the first level; validation rejects an unknown nested field', { skip }, async () => {
  const ex = await ok('explain', 'deployment.spec.template.spec.containers.ports');
  assert.match(ex, /containerPort\s+<integer>/);
  const bad = await kubectl(standin.kc, ['apply', '-f', '-'], manifest('nginx', 1).replace('mountPath', 'mountPth'));
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /unknown field "mountPth"/);
});
