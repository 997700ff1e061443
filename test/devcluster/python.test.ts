// The official Python client (Debian's python3-kubernetes) against a secure stand-in: list, create, patch, watch
// (it sends watch=True, which must stream, not list). Skipped with a message when no python3 has the module.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../helpers/kubectl.ts';
import { standinTls } from '../../src/playground/standinTls.ts';
import { startSecureApiServer, type SecureServer } from '../../src/devcluster/secure.ts';
import { kubeconfigFor } from '../../src/devcluster/server.ts';

/** A python3 that can import kubernetes: $MESHFED_PYTHON, python3 on PATH, or Debian's /usr/bin/python3. */
const PYTHON = [process.env.MESHFED_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p)
  .find((p) => spawnSync(p, ['-c', 'import kubernetes'], { stdio: 'ignore' }).status === 0);
const skip = PYTHON ? undefined : 'no python3 with the kubernetes module (apt-get install python3-kubernetes, or set MESHFED_PYTHON)';

const SCRIPT = `
import json, sys, threading, time
from kubernetes import client, config, watch
config.load_kube_config(config_file=sys.argv[1])
core = client.CoreV1Api()
apps = client.AppsV1Api()
out = {}
out['namespaces'] = sorted(n.metadata.name for n in core.list_namespace().items)
core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name='py')))
cm = core.create_namespaced_config_map('py', client.V1ConfigMap(metadata=client.V1ObjectMeta(name='conf', labels={'app': 'py'}), data={'a': '1'}))
out['created_rv'] = cm.metadata.resource_version
p = core.patch_namespaced_config_map('conf', 'py', {'data': {'b': '2'}, 'metadata': {'labels': {'patched': 'yes'}}})
out['patched'] = {'data': p.data, 'labels': p.metadata.labels}
d = apps.create_namespaced_deployment('py', client.V1Deployment(
    metadata=client.V1ObjectMeta(name='web'),
    spec=client.V1DeploymentSpec(replicas=2, selector=client.V1LabelSelector(match_labels={'app': 'web'}),
        template=client.V1PodTemplateSpec(metadata=client.V1ObjectMeta(labels={'app': 'web'}),
            spec=client.V1PodSpec(containers=[client.V1Container(name='web', image='nginx')])))))
out['deployment_replicas'] = d.spec.replicas
def later():
    time.sleep(0.5)
    core.create_namespaced_config_map('py', client.V1ConfigMap(metadata=client.V1ObjectMeta(name='late')))
threading.Thread(target=later).start()
events = []
w = watch.Watch()
for e in w.stream(core.list_namespaced_config_map, 'py', timeout_seconds=10):
    events.append([e['type'], e['object'].metadata.name])
    if e['object'].metadata.name == 'late':
        w.stop()
out['watch'] = events
print(json.dumps(out))
`;

let server: SecureServer;
let dir: string;
before(async () => {
  if (skip) return;
  server = await startSecureApiServer({ name: 'py', tls: standinTls('py') });
  dir = mkdtempSync(join(tmpdir(), 'meshfed-python-'));
  writeFileSync(join(dir, 'kubeconfig'), kubeconfigFor([server]), { mode: 0o600 });
  writeFileSync(join(dir, 'client.py'), SCRIPT);
});
after(async () => { if (skip) return; await server.close(); rmSync(dir, { recursive: true, force: true }); });

test('official Python client: list, create, patch, watch', { skip }, async () => {
  const r = await run(PYTHON!, [join(dir, 'client.py'), join(dir, 'kubeconfig')]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    namespaces: string[]; patched: { data: Record<string, string>; labels: Record<string, string> };
    deployment_replicas: number; watch: Array<[string, string]>;
  };
  assert.ok(out.namespaces.includes('default') && out.namespaces.includes('kube-system'), JSON.stringify(out.namespaces));
  assert.deepEqual(out.patched, { data: { a: '1', b: '2' }, labels: { app: 'py', patched: 'yes' } });
  assert.equal(out.deployment_replicas, 2);
  // the watch first lists what is there (ADDED), then streams the object created while it runs
  assert.deepEqual(out.watch.filter(([, n]) => n !== 'kube-root-ca.crt'), [['ADDED', 'conf'], ['ADDED', 'late']]);
});
