import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { readerClusterRole, registrationSecret, validateClusterName } from '../../src/federation/registration.ts';

test('the registration Secret holds only the narrow token, labelled and annotated per the contract', () => {
  const s = registrationSecret({ name: 'east', network: 'net-e', region: 'eu', server: 'https://127.0.0.1:6443', caData: 'Q0E=', token: 'narrow-token' });
  assert.equal(s.metadata?.namespace, 'meshfed-system');
  assert.equal(s.metadata?.labels?.['meshfed.io/multicluster'], 'true');
  assert.deepEqual(s.metadata?.annotations, { 'meshfed.io/cluster-name': 'east', 'meshfed.io/network': 'net-e', 'meshfed.io/region': 'eu' });
  const kc = parse(s.stringData!['kubeconfig']!) as { users: Array<{ user: Record<string, unknown> }>; clusters: Array<{ cluster: Record<string, unknown> }>; 'current-context': string };
  assert.deepEqual(kc.users, [{ name: 'meshfed-reader', user: { token: 'narrow-token' } }]);
  assert.equal(kc.clusters[0]!.cluster['server'], 'https://127.0.0.1:6443');
  assert.equal(kc.clusters[0]!.cluster['certificate-authority-data'], 'Q0E=');
  assert.equal(kc['current-context'], 'east');
});

test('the reader role cannot read Secrets and writes only what replication needs', () => {
  const rules = readerClusterRole().rules ?? [];
  for (const r of rules) assert.ok(!r.resources?.includes('secrets') && !r.resources?.includes('*'), JSON.stringify(r));
  const writes = rules.filter((r) => r.verbs.some((v) => ['create', 'update', 'patch', 'delete'].includes(v))).flatMap((r) => r.resources ?? []);
  assert.deepEqual([...new Set(writes)].sort(), ['authorizationpolicies/status', 'configmaps', 'destinationrules/status', 'namespaces', 'peerauthentications/status', 'serviceentries/status', 'services', 'sidecars/status', 'tokenreviews', 'virtualservices/status']);
});

test('cluster names must be DNS-1123 labels', () => {
  assert.equal(validateClusterName('east-1'), undefined);
  assert.match(validateClusterName('East_1') ?? '', /--name/);
});
