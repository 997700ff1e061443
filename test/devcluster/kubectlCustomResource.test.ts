// Changing a custom resource with kubectl as users do, on the CRD meshfed installs (spec and status preserve unknown
// fields): kube-apiserver treats the lists of such a schema as atomic — a changed list replaces the old one, and a
// manager owns the list as one field (`f:ports: {}`), never items keyed by a guessed merge key. The stand-in once
// keyed ServiceEntry `ports` by a `port` field they do not have and answered 500 to every later change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KUBECTL_MISSING, kubectl } from '../helpers/kubectl.ts';
import { useKubectlStandin } from '../helpers/kubectlStandin.ts';
import { SECURITY_CRDS } from '../../src/security/crds.ts';

const skip = KUBECTL_MISSING;
const standin = useKubectlStandin('cr', 'meshfed-kubectl-cr-');
const k = (args: string[], input?: string) => kubectl(standin.kc, args, input);
async function ok(args: string[], input?: string): Promise<string> {
  const r = await k(args, input);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const serviceEntry = (address: string, ports: number[]) => JSON.stringify({
  apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'external-api', namespace: 'default' },
  spec: { hosts: ['api.external.example'], ports: ports.map((n) => ({ number: n, name: `p${n}`, protocol: 'HTTP' })), location: 'MESH_EXTERNAL', resolution: 'STATIC', endpoints: [{ address }] },
});
const spec = async (): Promise<{ endpoints: unknown; ports: unknown }> => JSON.parse(await ok(['get', 'serviceentry', 'external-api', '-o', 'jsonpath={.spec}'])) as { endpoints: unknown; ports: unknown };

// in the tests, not a before hook: the stand-in's own before hook may not have finished when another one runs
let crds: Promise<string> | undefined;
const installCrds = () => (crds ??= ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: SECURITY_CRDS })));

test('kubectl apply changes a ServiceEntry with endpoints and ports (client-side merge patch), lists replaced whole', { skip }, async () => {
  await installCrds();
  await ok(['apply', '-f', '-'], serviceEntry('127.0.9.9', [80, 443]));
  await ok(['apply', '-f', '-'], serviceEntry('127.0.9.10', [8080]));
  assert.deepEqual(await spec().then((s) => [s.endpoints, s.ports]), [[{ address: '127.0.9.10' }], [{ number: 8080, name: 'p8080', protocol: 'HTTP' }]]);
  // kubectl edit-style full update (PUT) and a JSON merge patch work on it too
  await ok(['patch', 'serviceentry', 'external-api', '--type', 'merge', '-p', '{"spec":{"endpoints":[{"address":"127.0.9.11"},{"address":"127.0.9.12"}]}}']);
  assert.deepEqual((await spec()).endpoints, [{ address: '127.0.9.11' }, { address: '127.0.9.12' }]);
  const obj = JSON.parse(await ok(['get', 'serviceentry', 'external-api', '-o', 'json'])) as { spec: { endpoints: unknown[] } };
  obj.spec.endpoints = [{ address: '127.0.9.13' }];
  await ok(['replace', '-f', '-'], JSON.stringify(obj));
  assert.deepEqual((await spec()).endpoints, [{ address: '127.0.9.13' }]);
  // a custom resource has no strategic merge patch, as with kube-apiserver
  const smp = await k(['patch', 'serviceentry', 'external-api', '--type', 'strategic', '-p', '{"spec":{"hosts":["x.example"]}}']);
  assert.notEqual(smp.code, 0);
  assert.match(smp.stderr, /strategic merge patch is not supported/);
});

test('kubectl apply --server-side on a ServiceEntry: the manager owns the lists whole and a later apply replaces them', { skip }, async () => {
  await installCrds();
  await ok(['delete', 'serviceentry', 'external-api', '--ignore-not-found']);
  await ok(['apply', '--server-side', '--field-manager', 'ops', '-f', '-'], serviceEntry('127.0.9.9', [80, 443]));
  await ok(['apply', '--server-side', '--field-manager', 'ops', '-f', '-'], serviceEntry('127.0.9.10', [443, 8443]));
  assert.deepEqual(await spec().then((s) => [s.endpoints, s.ports]), [[{ address: '127.0.9.10' }], [{ number: 443, name: 'p443', protocol: 'HTTP' }, { number: 8443, name: 'p8443', protocol: 'HTTP' }]]);
  const raw = JSON.parse(await ok(['get', '--raw', '/apis/networking.istio.io/v1/namespaces/default/serviceentries/external-api'])) as { metadata: { managedFields: Array<{ manager: string; fieldsV1: { 'f:spec': Record<string, unknown> } }> } };
  const mf = raw.metadata.managedFields;
  const ops = mf.find((m) => m.manager === 'ops')!;
  assert.deepEqual(ops.fieldsV1['f:spec']['f:ports'], {});
  assert.deepEqual(ops.fieldsV1['f:spec']['f:endpoints'], {});
});
