// Looking around a stand-in with kubectl (MESHFED_KUBECTL: 1.32 and 1.20 in CI): version without a skew warning,
// auth whoami and can-i --list, describe showing a pod's events, events field selectors and columns,
// /openapi/v2 as JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KUBECTL_MISSING, kubectl } from '../helpers/kubectl.ts';
import { useKubectlStandin } from '../helpers/kubectlStandin.ts';

const skip = KUBECTL_MISSING;
const standin = useKubectlStandin('inspect', 'meshfed-kubectl-inspect-');
const { k, ok } = standin;

test('kubectl version: server 1.32, no version-skew warning', { skip }, async () => {
  const r = await k('version', '-o', 'json');
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { serverVersion: { minor: string } }).serverVersion.minor, '32');
  assert.doesNotMatch(r.stderr, /version difference/);
});

test('auth whoami (1.28+) and auth can-i --list follow the user', { skip }, async (t) => {
  await ok('create', 'serviceaccount', 'bot');
  await ok('create', 'role', 'pod-reader', '--verb=get,list', '--resource=pods');
  await ok('create', 'rolebinding', 'bot-reads', '--role=pod-reader', '--serviceaccount=default:bot');
  const list = await ok('auth', 'can-i', '--list', '--as=system:serviceaccount:default:bot');
  assert.match(list, /^pods\s+\[\]\s+\[\]\s+\[get list\]$/m);
  assert.match(list, /^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$/m);
  assert.doesNotMatch(list, /^secrets/m);
  const admin = await ok('auth', 'can-i', '--list');
  assert.match(admin, /^\*\.\*\s+\[\]\s+\[\]\s+\[\*\]$/m);
  if (standin.minor < 28) { t.diagnostic(`kubectl 1.${standin.minor} has no "auth whoami"`); return; }
  const me = await ok('auth', 'whoami');
  assert.match(me, /^Username\s+kubernetes-admin$/m);
  assert.match(me, /^Groups\s+\[system:masters system:authenticated\]$/m);
  const bot = await ok('auth', 'whoami', '--as=system:serviceaccount:default:bot');
  assert.match(bot, /^Username\s+system:serviceaccount:default:bot$/m);
});

test("describe shows a pod's events; events field selectors and columns", { skip }, async () => {
  await ok('run', 'web', '--image=nginx', '--restart=Never');
  const uid = await ok('get', 'pod', 'web', '-o', 'jsonpath={.metadata.uid}');
  const r = await kubectl(standin.kc, ['apply', '-f', '-'], `apiVersion: v1
kind: Event
metadata: { name: web.1, namespace: default }
involvedObject: { kind: Pod, name: web, namespace: default, uid: "${uid}", apiVersion: v1 }
reason: Scheduled
message: Successfully assigned default/web to node-a
type: Normal
source: { component: default-scheduler }
---
apiVersion: v1
kind: Event
metadata: { name: other.1, namespace: default }
involvedObject: { kind: Pod, name: other, namespace: default, uid: "not-web" }
reason: BackOff
message: Back-off restarting failed container
type: Warning
source: { component: kubelet }
`);
  assert.equal(r.code, 0, r.stderr);
  const d = await ok('describe', 'pod', 'web');
  assert.match(d, /Events:\n\s+Type\s+Reason\s+Age\s+From\s+Message\n.*\n\s+Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default\/web to node-a\n$/);
  assert.doesNotMatch(d, /BackOff/);
  assert.equal((await ok('get', 'events', '--field-selector', 'reason=BackOff', '-o', 'name')).trim(), 'event/other.1');
  assert.equal((await ok('get', 'events', '--field-selector', 'type=Normal,involvedObject.kind=Pod', '-o', 'name')).trim(), 'event/web.1');
  assert.equal((await ok('get', 'events', '--field-selector', 'source=kubelet', '-o', 'name')).trim(), 'event/other.1');
  const cols = await ok('get', 'events', '--field-selector', 'involvedObject.name=other');
  assert.match(cols, /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n\S+\s+Warning\s+BackOff\s+pod\/other\s+Back-off restarting failed container\n$/);
});

test('/openapi/v2 is served as JSON to clients that ask for JSON', { skip }, async () => {
  const doc = JSON.parse(await ok('get', '--raw', '/openapi/v2')) as { swagger: string; definitions: Record<string, { properties?: Record<string, unknown> }> };
  assert.equal(doc.swagger, '2.0');
  assert.ok(doc.definitions['io.k8s.api.apps.v1.DeploymentSpec']?.properties?.template, 'DeploymentSpec has template');
});
