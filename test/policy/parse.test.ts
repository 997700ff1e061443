import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromKube, statusFor } from '../../src/policy/parse.ts';

test('v1 and v1beta1 objects are read; other apiVersions and kinds give a clear error', () => {
  for (const apiVersion of ['networking.istio.io/v1', 'networking.istio.io/v1beta1']) {
    const o = fromKube({ apiVersion, kind: 'VirtualService', metadata: { namespace: 'demo', name: 'echo', generation: 3 }, spec: { hosts: ['echo'] } });
    assert.ok(!('error' in o));
    assert.equal(o.metadata.generation, 3);
  }
  const bad = fromKube({ apiVersion: 'networking.istio.io/v1alpha3', kind: 'VirtualService', metadata: { namespace: 'demo', name: 'echo' }, spec: {} });
  assert.match('error' in bad ? bad.error : '', /VirtualService demo\/echo: apiVersion networking\.istio\.io\/v1alpha3/);
  const wrongKind = fromKube({ apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { namespace: 'demo', name: 'gw' }, spec: {} });
  assert.match('error' in wrongKind ? wrongKind.error : '', /kind must be/);
});

test('a rejection becomes a False condition and validation messages carrying each reason', () => {
  const s = statusFor(2, { kind: 'VirtualService', namespace: 'demo', name: 'echo', generation: 2, reasons: ['spec.http[0].route: weights sum to 110, they must sum to 100'] }) as any;
  assert.equal(s.observedGeneration, 2);
  assert.equal(s.conditions[0].status, 'False');
  assert.match(s.validationMessages[0].description, /weights sum to 110/);
  assert.equal((statusFor(1, undefined) as any).conditions[0].status, 'True');
});
