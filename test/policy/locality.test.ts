import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prioritize, type PolicyEndpoint } from '../../src/policy/locality.ts';

const ep = (address: string, region: string, zone: string, labels: Record<string, string> = {}): PolicyEndpoint => ({ address, port: 80, locality: { region, zone, subzone: '' }, labels });
const eps = [ep('a', 'eu', 'eu-1'), ep('b', 'eu', 'eu-2'), ep('c', 'us', 'us-1'), ep('d', 'ap', 'ap-1')];
const client = { locality: { region: 'eu', zone: 'eu-1', subzone: '' }, labels: {} };

test('same zone first, then same region, then the failover region, then the rest', () => {
  const p = prioritize(eps, client, { failover: [{ from: 'eu', to: 'us' }] });
  assert.deepEqual(p.map((e) => [e.address, e.priority]), [['a', 0], ['b', 2], ['c', 3], ['d', 4]]);
});

test('failoverPriority ranks by leading matching labels', () => {
  const lab = [ep('x', 'eu', 'eu-1', { net: 'n1', cluster: 'c1' }), ep('y', 'eu', 'eu-1', { net: 'n1', cluster: 'c2' }), ep('z', 'eu', 'eu-1', { net: 'n2', cluster: 'c1' })];
  const p = prioritize(lab, { ...client, labels: { net: 'n1', cluster: 'c1' } }, { failoverPriority: ['net', 'cluster'] });
  assert.deepEqual(p.map((e) => e.priority), [0, 1, 2]);
});

test('distribute assigns locality weights from the matching rule', () => {
  const p = prioritize(eps, client, { distribute: [{ from: 'eu/eu-1/*', to: { 'eu/eu-1/*': 80, 'us/*': 20 } }] });
  assert.deepEqual(p.map((e) => [e.address, e.localityWeight]), [['a', 80], ['b', 0], ['c', 20], ['d', 0]]);
});
