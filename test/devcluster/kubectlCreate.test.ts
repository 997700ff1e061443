// Everyday kubectl commands against a secure stand-in, with whichever kubectl MESHFED_KUBECTL names (CI runs this
// file with 1.32, whose typed clients send protobuf bodies, and with 1.20, which sends JSON):
// each typed `create` generator stores what `kubectl … --dry-run=client -o json` prints; tokens, can-i, drain,
// scale/rollout/wait, and logs/exec answering that the stand-in runs no containers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { KUBECTL_MISSING, kubectl } from '../helpers/kubectl.ts';
import { useKubectlStandin } from '../helpers/kubectlStandin.ts';

const skip = KUBECTL_MISSING;
const standin = useKubectlStandin('gen', 'meshfed-kubectl-create-', { 'blob.bin': Buffer.from([0x62, 0x69, 0x6e, 0x00, 0xff, 0x01]) });
const { k, ok } = standin;

type J = Record<string, unknown>;
/** Every field the client meant is in the stored object (the server may add more: uid, defaults, status). */
function assertStoredHas(stored: unknown, want: unknown, path: string): void {
  if (want && typeof want === 'object' && !Array.isArray(want)) {
    assert.ok(stored && typeof stored === 'object' && !Array.isArray(stored), `${path}: stored ${JSON.stringify(stored)} is not an object`);
    for (const [key, v] of Object.entries(want as J)) assertStoredHas((stored as J)[key], v, `${path}.${key}`);
  } else if (Array.isArray(want)) {
    assert.ok(Array.isArray(stored) && stored.length === want.length, `${path}: stored ${JSON.stringify(stored)} vs ${JSON.stringify(want)}`);
    want.forEach((v, i) => assertStoredHas(stored[i], v, `${path}[${i}]`));
  } else assert.deepEqual(stored, want, path);
}

/** Runs the generator with --dry-run=client -o json, then for real, and compares with what the server stored. */
async function generator(args: string[], get: string[]): Promise<J> {
  const want = JSON.parse(await ok(...args, '--dry-run=client', '-o', 'json')) as J & { metadata: J };
  if (want.metadata.creationTimestamp === null) delete want.metadata.creationTimestamp; // the server sets it
  delete want.status; // the server owns status
  await ok(...args);
  const stored = JSON.parse(await ok('get', ...get, '-o', 'json')) as J;
  assertStoredHas(stored, want, get.join('/'));
  return stored;
}

test('every typed create generator stores what --dry-run=client prints', { skip }, async () => {
  await generator(['create', 'namespace', 'demo'], ['namespace', 'demo']);
  const cm = await generator(['-n', 'demo', 'create', 'configmap', 'cm1', '--from-literal=a=1', `--from-file=blob=${join(standin.dir, 'blob.bin')}`], ['-n', 'demo', 'configmap', 'cm1']);
  assert.deepEqual(cm.binaryData, { blob: 'YmluAP8B' });
  await generator(['-n', 'demo', 'create', 'secret', 'generic', 's1', '--from-literal=pw=hunter2'], ['-n', 'demo', 'secret', 's1']);
  await generator(['-n', 'demo', 'create', 'secret', 'docker-registry', 'reg', '--docker-server=r.example', '--docker-username=u', '--docker-password=p'], ['-n', 'demo', 'secret', 'reg']);
  await generator(['-n', 'demo', 'create', 'serviceaccount', 'sa1'], ['-n', 'demo', 'serviceaccount', 'sa1']);
  const d = await generator(['-n', 'demo', 'create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=3', '--port=80'], ['-n', 'demo', 'deployment', 'web']);
  assert.equal((d.spec as J).replicas, 3);
  await generator(['-n', 'demo', 'create', 'role', 'r1', '--verb=get,list', '--resource=pods,configmaps'], ['-n', 'demo', 'role', 'r1']);
  await generator(['-n', 'demo', 'create', 'rolebinding', 'rb1', '--role=r1', '--serviceaccount=demo:sa1'], ['-n', 'demo', 'rolebinding', 'rb1']);
  await generator(['create', 'clusterrole', 'cr1', '--verb=get', '--resource=nodes'], ['clusterrole', 'cr1']);
  await generator(['create', 'clusterrolebinding', 'crb1', '--clusterrole=cr1', '--user=alice', '--group=devs'], ['clusterrolebinding', 'crb1']);
  await generator(['-n', 'demo', 'create', 'service', 'clusterip', 'svc1', '--tcp=80:8080', '--tcp=443:https'], ['-n', 'demo', 'service', 'svc1']);
  await generator(['-n', 'demo', 'create', 'service', 'nodeport', 'np1', '--tcp=80:8080'], ['-n', 'demo', 'service', 'np1']);
});

test('create token (1.24+): the token authenticates as the ServiceAccount; auth can-i follows RBAC', { skip }, async (t) => {
  assert.equal((await ok('auth', 'can-i', 'create', 'pods')).trim(), 'yes');
  assert.equal((await ok('auth', 'can-i', 'list', 'pods', '-n', 'demo', '--as=system:serviceaccount:demo:sa1')).trim(), 'yes');
  const no = await k('auth', 'can-i', 'delete', 'pods', '-n', 'demo', '--as=system:serviceaccount:demo:sa1');
  assert.equal(no.stdout.trim(), 'no');
  if (standin.minor < 24) { t.diagnostic(`kubectl 1.${standin.minor} has no "create token"`); return; }
  const aud = (await ok('-n', 'demo', 'create', 'token', 'sa1', '--duration=2h', '--audience=foo')).trim();
  const claims = JSON.parse(Buffer.from(aud.split('.')[1], 'base64url').toString()) as { aud: string[]; exp: number; iat: number; sub: string };
  assert.deepEqual(claims.aud, ['foo']);
  assert.equal(claims.exp - claims.iat, 7200);
  const token = (await ok('-n', 'demo', 'create', 'token', 'sa1')).trim();
  assert.equal((await ok('--token', token, 'auth', 'can-i', 'list', 'configmaps', '-n', 'demo')).trim(), 'yes');
  const denied = await k('--token', token, 'get', 'secrets', '-n', 'demo');
  assert.match(denied.stderr, /User "system:serviceaccount:demo:sa1" cannot list resource "secrets"/);
});

test('deployments: get columns, scale, rollout status and wait --for=condition=Available return', { skip }, async () => {
  const ready = async (want: string) => {
    for (let i = 0; i < 50; i++) {
      const out = await ok('-n', 'demo', 'get', 'deploy', 'web');
      if (new RegExp(`^web\\s+${want}\\s`, 'm').test(out)) return out;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`deployment web never showed READY ${want}`);
  };
  const table = await ready('3/3');
  assert.match(table, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nweb\s+3\/3\s+3\s+3\s+\d+s\n$/);
  assert.match(await ok('-n', 'demo', 'rollout', 'status', 'deploy/web', '--timeout=20s'), /deployment "web" successfully rolled out/);
  assert.match(await ok('-n', 'demo', 'wait', '--for=condition=Available', 'deploy/web', '--timeout=20s'), /deployment.apps\/web condition met/);
  assert.match(await ok('-n', 'demo', 'scale', 'deploy', 'web', '--replicas=5'), /deployment.apps\/web scaled/);
  await ready('5/5');
  const wide = await ok('-n', 'demo', 'get', 'deploy', 'web', '-o', 'wide');
  assert.match(wide, /CONTAINERS\s+IMAGES\s+SELECTOR\nweb\s+5\/5\s+5\s+5\s+\S+\s+nginx\s+nginx:1\.27\s+app=web\n/);
});

test('drain evicts the pods of a node and cordons it', { skip }, async () => {
  const r = await kubectl(standin.kc, ['apply', '-f', '-'], `apiVersion: v1
kind: Node
metadata: { name: node-1 }
---
apiVersion: v1
kind: Pod
metadata: { name: bare, namespace: demo }
spec: { nodeName: node-1, containers: [{ name: c, image: x }] }
---
apiVersion: v1
kind: Pod
metadata: { name: elsewhere, namespace: demo }
spec: { nodeName: node-2, containers: [{ name: c, image: x }] }
`);
  assert.equal(r.code, 0, r.stderr);
  const out = await ok('drain', 'node-1', '--force', '--timeout=20s');
  assert.match(out, /node\/node-1 cordoned/);
  assert.match(out, /pod\/bare evicted/);
  assert.match(out, /node\/node-1 (drained|evicted)/); // kubectl 1.20 prints its last operation word ("evicted") there
  assert.equal((await ok('get', 'node', 'node-1', '-o', 'jsonpath={.spec.unschedulable}')).trim(), 'true');
  assert.equal((await ok('-n', 'demo', 'get', 'pods', '-o', 'name')).trim(), 'pod/elsewhere');
});

test('logs and exec say the stand-in runs no containers', { skip }, async () => {
  const logs = await k('-n', 'demo', 'logs', 'elsewhere');
  assert.notEqual(logs.code, 0);
  assert.match(logs.stderr, /pod "elsewhere" has no logs: the meshfed stand-in API server stores Pods but runs no containers/);
  const exec = await k('-n', 'demo', 'exec', 'elsewhere', '--', 'ls');
  assert.notEqual(exec.code, 0);
  assert.match(exec.stderr, /cannot run commands: the meshfed stand-in API server stores Pods but runs no containers/);
});
