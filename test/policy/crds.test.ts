import assert from 'node:assert/strict';
import { test } from 'node:test';
import { POLICY_CRDS } from '../../src/policy/crds.ts';

test('both CRDs serve v1 and v1beta1, store v1, and have a status subresource', () => {
  assert.deepEqual(POLICY_CRDS.map((c) => c.metadata.name), ['virtualservices.networking.istio.io', 'destinationrules.networking.istio.io']);
  for (const c of POLICY_CRDS) {
    const versions = c.spec.versions as { name: string; served: boolean; storage: boolean; subresources: { status?: object } }[];
    assert.deepEqual(versions.map((v) => [v.name, v.served, v.storage]), [['v1', true, true], ['v1beta1', true, false]]);
    assert.ok(versions.every((v) => v.subresources.status));
  }
});
