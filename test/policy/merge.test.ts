import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeSources } from '../../src/policy/merge.ts';
import type { KubeObject } from '../../src/policy/parse.ts';

const vs = (name: string, spec: unknown): KubeObject => ({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { namespace: 'demo', name }, spec });

test('the same namespace/name in several clusters is one object: the first source wins, differing copies are reported', () => {
  const r = mergeSources([
    { cluster: '', objects: [vs('echo', { hosts: ['echo'] })] },
    { cluster: 'east', objects: [vs('echo', { hosts: ['echo'] }), vs('other', { hosts: ['other'] })] },
    { cluster: 'west', objects: [vs('echo', { hosts: ['changed'] }), vs('other', { hosts: ['other2'] })] },
  ]);
  assert.deepEqual(r.objects.map((o) => [o.cluster, o.object.metadata?.name]), [['', 'echo'], ['east', 'other']]);
  assert.deepEqual(r.shadowed.map((s) => [s.cluster, s.key, s.by, s.differs]), [
    ['east', 'VirtualService/demo/echo', '', false],
    ['west', 'VirtualService/demo/echo', '', true],
    ['west', 'VirtualService/demo/other', 'east', true],
  ]);
});

test('a DestinationRule and a VirtualService of the same name are different objects', () => {
  const dr: KubeObject = { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { namespace: 'demo', name: 'echo' }, spec: { host: 'echo' } };
  const r = mergeSources([{ cluster: 'east', objects: [vs('echo', {}), dr] }]);
  assert.equal(r.objects.length, 2);
  assert.equal(r.shadowed.length, 0);
});
