// Which control-plane ports reach beyond the cluster (issue 22): plaintext xDS (15010) and the admin server (15014)
// have no authentication, so the installed Services keep them cluster-internal, as Istio does (15010: trusted
// networks only). Only the CA + mTLS xDS (15012) is on a node port for remote clusters, unless the operator asks
// for plaintext xDS there (kind's docker network).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { controlPlaneManifests, type K8sObject } from '../../src/deploy/manifests.ts';
import { kindPlan } from '../../src/deploy/kind.ts';
import { parseFlags } from '../../src/cli/command.ts';
import { controlPlaneCommands } from '../../src/cli/commands/controlPlane.ts';
import { meshfed } from '../helpers/meshfed.ts';

interface Port { port: number; nodePort?: number }
type Svc = K8sObject & { spec: { type?: string; ports: Port[] } };

/** Ports reachable from outside the cluster: those of NodePort and LoadBalancer Services. */
function exposed(objects: K8sObject[]): number[] {
  return objects.filter((o): o is Svc => o.kind === 'Service' && ['NodePort', 'LoadBalancer'].includes((o as Svc).spec.type ?? 'ClusterIP'))
    .flatMap((s) => s.spec.ports.map((p) => p.port)).sort();
}

test('meshfed install --dry-run (control plane): 15010 and 15014 are cluster-internal; only 15012 is on a node port', async () => {
  const r = await meshfed(['install', '--component', 'control-plane', '--dry-run']);
  assert.equal(r.code, 0, r.stderr);
  const objects = parseAllDocuments(r.stdout).map((d) => d.toJSON() as K8sObject);
  assert.deepEqual(exposed(objects), [15012]);
  const internal = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'meshfed') as Svc;
  assert.equal(internal.spec.type, 'ClusterIP');
  assert.deepEqual(internal.spec.ports.map((p) => p.port), [15010, 15012, 15014], 'in-cluster proxies, probes and scrapes keep every port');
  // asked for, plaintext xDS joins it (trusted networks only)
  const open = await meshfed(['install', '--component', 'control-plane', '--dry-run', '--expose-plaintext-xds']);
  assert.deepEqual(exposed(parseAllDocuments(open.stdout).map((d) => d.toJSON() as K8sObject)), [15010, 15012]);
});

test('deploy/control-plane.yaml exposes only 15012; kind up publishes 15010 for its remote clusters on its docker network', async () => {
  const { readFileSync } = await import('node:fs');
  const file = readFileSync(new URL('../../deploy/control-plane.yaml', import.meta.url), 'utf8');
  assert.deepEqual(exposed(parseAllDocuments(file).map((d) => d.toJSON() as K8sObject)), [15012]);
  const steps = kindPlan({ controlPlane: 'east-1', clusters: [{ name: 'east-1', region: 'us-east', network: 'net-east', zones: ['us-east-1a'] }], gateways: [] } as never, { configDir: 'c', workDir: 'w' });
  const install = steps.find((s) => s.kind === 'apply' && /control plane/.test(s.say));
  assert.ok(install && install.kind === 'apply');
  assert.deepEqual(exposed(install.objects), [15010, 15012]);
});

test('the control-plane container\'s arguments are flags meshfed control-plane accepts, and open the admin server to probes', () => {
  const dep = controlPlaneManifests().find((o) => o.kind === 'Deployment') as K8sObject & { spec: { template: { spec: { containers: Array<{ args: string[] }> } } } };
  const args = dep.spec.template.spec.containers[0]!.args;
  assert.equal(args[0], 'control-plane');
  const parsed = parseFlags(controlPlaneCommands[0]!, args.slice(1));
  assert.equal(parsed.values['admin-address'], '0.0.0.0');
});
