// `meshfed cluster list` rows (pure): registrations from the Secrets joined with the control plane's live state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { clusterRows } from '../../src/federation/clusterList.ts';
import { registrationSecret } from '../../src/federation/registration.ts';
import type { ClusterStatus } from '../../src/mesh/types.ts';

const now = Date.parse('2026-11-25T08:00:00.000Z');
const secretFor = (name: string, server: string): k8s.V1Secret => {
  const s = registrationSecret({ name, network: `net-${name}`, region: `reg-${name}`, server, token: `token-${name}` });
  // as the API server returns it: stringData is folded into base64 data
  const data = Object.fromEntries(Object.entries(s.stringData ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
  return { ...s, stringData: undefined, data: { ...s.data, ...data } } as k8s.V1Secret;
};
const status = (name: string, extra: Partial<ClusterStatus>): ClusterStatus =>
  ({ name, server: `https://${name}.example:6443`, network: `net-${name}`, region: `reg-${name}`, state: 'connected', since: '2026-11-25T07:00:00.000Z', services: 0, endpoints: 0, ...extra });

test('control plane not reachable: every registration listed, state says where it was asked', () => {
  const rows = clusterRows([secretFor('west', 'https://w:6443'), secretFor('east', 'https://e:6443')], undefined, 'control plane not reachable at 127.0.0.1:15014', now);
  assert.deepEqual(rows.map((r) => [r.name, r.server, r.network, r.region, r.state, r.services]), [
    ['east', 'https://e:6443', 'net-east', 'reg-east', 'unknown (control plane not reachable at 127.0.0.1:15014)', '-'],
    ['west', 'https://w:6443', 'net-west', 'reg-west', 'unknown (control plane not reachable at 127.0.0.1:15014)', '-'],
  ]);
});

test('live state: connected with counts and sync age, unreachable since when, registered but not watched, broken Secret reason', () => {
  const broken: k8s.V1Secret = { metadata: { name: 'meshfed-remote-bad', namespace: 'meshfed-system', annotations: { 'meshfed.io/cluster-name': 'bad' } }, data: {} };
  const rows = clusterRows(
    [secretFor('a', 'https://a:6443'), secretFor('b', 'https://b:6443'), secretFor('c', 'https://c:6443'), broken],
    [status('a', { services: 12, endpoints: 30, lastSync: '2026-11-25T07:59:30.000Z' }), status('b', { state: 'unreachable', since: '2026-11-25T07:55:00.000Z', reason: 'ECONNREFUSED', lastSync: '2026-11-25T05:00:00.000Z' })],
    '', now);
  const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
  assert.deepEqual(rows.map((r) => r.name), ['a', 'b', 'bad', 'c']);
  assert.deepEqual([byName.a!.state, byName.a!.services, byName.a!.endpoints, byName.a!.lastSync], ['connected', '12', '30', '30s ago']);
  assert.deepEqual([byName.b!.state, byName.b!.reason, byName.b!.lastSync], ['unreachable since 2026-11-25T07:55:00.000Z', 'ECONNREFUSED', '3h ago']);
  assert.equal(byName.c!.state, 'not watched');
  assert.match(byName.bad!.reason, /registration Secret meshfed-system\/meshfed-remote-bad: data key "kubeconfig" is missing/);
});
