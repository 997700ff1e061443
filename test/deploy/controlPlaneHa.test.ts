// The control plane as deployed: several replicas (leader election), kept available through drains and rollouts,
// spread over zones, ready only when serving a complete snapshot, allowed to hold its Lease — and started with
// arguments its own command accepts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { controlPlaneManifests, type K8sObject } from '../../src/deploy/manifests.ts';
import { controlPlaneCommands } from '../../src/cli/commands/controlPlane.ts';
import { parseFlags } from '../../src/cli/command.ts';
import { meshfed } from '../helpers/meshfed.ts';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const find = (objs: K8sObject[], kind: string): Any => objs.find((o) => o.kind === kind) as Any;

test('control-plane manifests: 2 replicas, rollout and PodDisruptionBudget keep one ready, zone anti-affinity, Lease RBAC, replica identity', () => {
  const objs = controlPlaneManifests();
  const dep = find(objs, 'Deployment');
  assert.equal(dep.spec.replicas, 2);
  assert.deepEqual(dep.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  const pod = dep.spec.template.spec;
  const terms = pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution as Any[];
  assert.deepEqual(terms.map((t) => t.podAffinityTerm.topologyKey), ['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
  for (const t of terms) assert.deepEqual(t.podAffinityTerm.labelSelector, dep.spec.selector);
  const c = pod.containers[0];
  assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 15014 });
  assert.deepEqual(c.env, [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }]);

  const pdb = find(objs, 'PodDisruptionBudget');
  assert.equal(pdb.apiVersion, 'policy/v1');
  assert.equal(pdb.metadata.namespace, 'meshfed-system');
  assert.deepEqual(pdb.spec, { minAvailable: 1, selector: dep.spec.selector });
  // one replica: the budget must not block every drain
  assert.deepEqual(find(controlPlaneManifests({ replicas: 1 }), 'PodDisruptionBudget').spec.maxUnavailable, 1);

  const role = objs.find((o) => o.kind === 'Role' && o.metadata.namespace === 'meshfed-system') as Any;
  const lease = (role.rules as Any[]).find((r) => r.resources.includes('leases'))!;
  assert.deepEqual([lease.apiGroups, [...lease.verbs].sort()], [['coordination.k8s.io'], ['create', 'get', 'update']]);
  // the shared development CA (no cacerts): create any Secret there, update only that one
  const secretRules = (role.rules as Any[]).filter((r) => r.resources.includes('secrets'));
  assert.ok(secretRules.some((r) => r.verbs.includes('create') && !r.resourceNames));
  assert.ok(secretRules.some((r) => r.verbs.includes('update') && JSON.stringify(r.resourceNames) === '["meshfed-dev-ca"]'));
  assert.ok(!secretRules.some((r) => (r.verbs.includes('update') || r.verbs.includes('delete')) && !r.resourceNames));
  assert.throws(() => controlPlaneManifests({ replicas: 0 }), /replicas must be a whole number of at least 1, got 0/);
});

test('the Deployment starts the control plane with arguments `meshfed control-plane` accepts', () => {
  const c = find(controlPlaneManifests({ federateAll: true }), 'Deployment').spec.template.spec.containers[0];
  assert.equal(c.command.at(-1), '/opt/meshfed/bin/meshfed.js');
  const cmd = controlPlaneCommands.find((x) => x.path.join(' ') === 'control-plane')!;
  assert.equal(c.args[0], 'control-plane');
  const parsed = parseFlags(cmd, c.args.slice(1));
  assert.equal(parsed.values['trust-domain'], 'cluster.local');
  assert.equal(parsed.values['federate-all'], true);
});

test('meshfed install --replicas: the count in the Deployment; a bad count is a usage error', async () => {
  const r = await meshfed(['install', '--component', 'control-plane', '--replicas', '3', '--dry-run']);
  assert.equal(r.code, 0, r.stderr);
  const docs = r.stdout.split(/^---$/m).map((d) => parse(d) as Any);
  assert.equal(docs.find((d) => d.kind === 'Deployment')!.spec.replicas, 3);
  assert.equal(docs.find((d) => d.kind === 'PodDisruptionBudget')!.spec.minAvailable, 1);
  const bad = await meshfed(['install', '--component', 'control-plane', '--replicas', 'two', '--dry-run']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--replicas must be a whole number of at least 1, got "two"/);
});
