// kubectl (1.20 or 1.32, MESHFED_KUBECTL) against a secure stand-in: apply, get (tables), -o yaml, label, patch, delete, api-resources, get -w.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KUBECTL, KUBECTL_MISSING, kubectl } from '../helpers/kubectl.ts';
import { startSecureApiServer, type SecureServer } from '../../src/devcluster/secure.ts';
import { writeKubeconfig } from '../../src/devcluster/kubeconfigFile.ts';
import { standinTls } from '../../src/playground/standinTls.ts';

let server: SecureServer;
let dir: string;
let kc: string;
const k = (...args: string[]) => kubectl(kc, args);

const manifest = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector: { app: web }
  ports:
  - name: http
    port: 80
    targetPort: 8080
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data: { a: "1", b: "2" }
`;

const skip = KUBECTL_MISSING;

before(async () => {
  if (skip) return;
  server = await startSecureApiServer({ name: 'kctl', tls: standinTls('kctl') });
  dir = mkdtempSync(join(tmpdir(), 'meshfed-kubectl-'));
  kc = join(dir, 'kubeconfig');
  writeKubeconfig(kc, [server]);
  writeFileSync(join(dir, 'm.yaml'), manifest);
});
after(async () => { if (skip) return; await server.close(); rmSync(dir, { recursive: true, force: true }); });

test('apply a multi-doc manifest, then get shows the usual columns', { skip }, async () => {
  const a = await k('apply', '-f', join(dir, 'm.yaml'));
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /namespace\/shop created\nservice\/web created\nconfigmap\/settings created/);
  const svc = await k('-n', 'shop', 'get', 'services');
  assert.equal(svc.code, 0, svc.stderr);
  const lines = svc.stdout.trim().split('\n');
  assert.match(lines[0], /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$/);
  assert.match(lines[1], /^web\s+ClusterIP\s+10\.96\.\d+\.\d+\s+<none>\s+80\/TCP\s+\d+s$/);
  const cm = await k('-n', 'shop', 'get', 'configmap', 'settings');
  assert.match(cm.stdout, /^NAME\s+DATA\s+AGE\nsettings\s+2\s+\d+s\n$/);
  const ns = await k('get', 'ns', 'shop');
  assert.match(ns.stdout, /^NAME\s+STATUS\s+AGE\nshop\s+Active\s+\d+s\n$/);
  const again = await k('apply', '-f', join(dir, 'm.yaml'));
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /namespace\/shop unchanged\n/);
  // known gap: nested fields have no OpenAPI patch metadata yet, so kubectl's openapi-based patch for the service
  // is not empty ("configured"); the object must still come out the same
  const ports = await k('-n', 'shop', 'get', 'svc', 'web', '-o', 'jsonpath={.spec.ports[*].port}/{.spec.ports[*].targetPort}');
  assert.equal(ports.stdout, '80/8080');
});

test('validation is on: a manifest with an unknown field is rejected by kubectl, nothing is stored', { skip }, async () => {
  const bad = await kubectl(kc, ['apply', '-f', '-'], `apiVersion: v1
kind: ConfigMap
metadata: { name: typo, namespace: shop }
dataa: { a: "1" }
`);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /error validating data: ValidationError\(ConfigMap\): unknown field "dataa" in io\.k8s\.api\.core\.v1\.ConfigMap/);
  const badMeta = await kubectl(kc, ['apply', '-f', '-'], `apiVersion: v1
kind: Service
metadata: { name: typo2, namespace: shop, lables: { a: b } }
spec: { ports: [{ port: 80 }] }
`);
  assert.match(badMeta.stderr, /unknown field "lables"/);
  const none = await k('-n', 'shop', 'get', 'configmap', 'typo');
  assert.match(none.stderr, /configmaps "typo" not found/);
});

test('pods: READY/STATUS columns and -o wide IP/NODE; -o yaml round-trips', { skip }, async () => {
  const p = await kubectl(kc, ['-n', 'shop', 'apply', '-f', '-'], `apiVersion: v1
kind: Pod
metadata: { name: web-1, labels: { app: web } }
spec:
  nodeName: node-a
  containers: [{ name: app, image: echo, ports: [{ name: http, containerPort: 8080 }] }]
`);
  assert.equal(p.code, 0, p.stderr);
  const wide = await k('-n', 'shop', 'get', 'pods', '-o', 'wide');
  assert.match(wide.stdout.split('\n')[0], /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/);
  assert.match(wide.stdout.split('\n')[1], /^web-1\s+0\/1\s+Pending\s+0\s+\d+s\s+<none>\s+node-a\s+/);
  const y = await k('-n', 'shop', 'get', 'pod', 'web-1', '-o', 'yaml');
  assert.match(y.stdout, /^apiVersion: v1\nkind: Pod\n/);
  assert.match(y.stdout, /nodeName: node-a/);
});

test('label, strategic/merge/json patch, delete', { skip }, async () => {
  assert.equal((await k('-n', 'shop', 'label', 'svc', 'web', 'tier=front')).code, 0);
  const sel = await k('-n', 'shop', 'get', 'svc', '-l', 'tier=front', '-o', 'name');
  assert.equal(sel.stdout.trim(), 'service/web');
  const sp = await k('-n', 'shop', 'patch', 'configmap', 'settings', '-p', '{"data":{"c":"3"}}');
  assert.equal(sp.code, 0, sp.stderr);
  const mp = await k('-n', 'shop', 'patch', 'configmap', 'settings', '--type', 'merge', '-p', '{"data":{"a":null}}');
  assert.equal(mp.code, 0, mp.stderr);
  const jp = await k('-n', 'shop', 'patch', 'configmap', 'settings', '--type', 'json', '-p', '[{"op":"replace","path":"/data/b","value":"20"}]');
  assert.equal(jp.code, 0, jp.stderr);
  const data = await k('-n', 'shop', 'get', 'configmap', 'settings', '-o', 'jsonpath={.data}');
  assert.deepEqual(JSON.parse(data.stdout), { b: '20', c: '3' });
  const del = await k('-n', 'shop', 'delete', 'configmap', 'settings');
  assert.match(del.stdout, /configmap "settings" deleted/);
  const gone = await k('-n', 'shop', 'get', 'configmap', 'settings');
  assert.match(gone.stderr, /configmaps "settings" not found/);
});

test('api-resources lists built-ins and auth can-i works', { skip }, async () => {
  const r = await k('api-resources');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\nendpointslices\s+discovery\.k8s\.io\/v1\s+true\s+EndpointSlice\n/);
  assert.match(r.stdout, /\ntokenreviews\s+authentication\.k8s\.io\/v1\s+false\s+TokenReview\n/);
  assert.equal((await k('auth', 'can-i', 'create', 'pods')).stdout.trim(), 'yes');
});

test('get -w prints a line when an object changes', { skip }, async () => {
  assert.equal((await k('-n', 'shop', 'create', 'configmap', 'pre', '--from-literal=x=1')).code, 0);
  const child = spawn(KUBECTL, ['--kubeconfig', kc, '-n', 'shop', 'get', 'configmaps', '-w'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  try {
    const until = async (re: RegExp) => {
      const end = Date.now() + 10_000;
      while (!re.test(out)) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${re} in:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await until(/^NAME\s+DATA\s+AGE\npre\s+1\s+\d+s\n/);
    assert.equal((await k('-n', 'shop', 'create', 'configmap', 'watched', '--from-literal=x=1')).code, 0);
    await until(/\nwatched\s+1\s+\d+s\n/);
    assert.equal((await k('-n', 'shop', 'label', 'configmap', 'pre', 'seen=yes')).code, 0);
    await until(/\nwatched\s+1\s+\d+s\npre\s+1\s+\d+s\n/);
  } finally {
    child.kill('SIGTERM');
  }
});
