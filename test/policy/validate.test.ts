import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration } from '../../src/policy/duration.ts';
import type { DestinationRule, VirtualService } from '../../src/policy/types.ts';
import { checkRe2, reconcile, validatePolicy } from '../../src/policy/validate.ts';

const HOST = 'echo.demo.svc.cluster.local';

function dr(subsets = ['v1', 'v2'], generation = 1): DestinationRule {
  return {
    kind: 'DestinationRule',
    metadata: { namespace: 'demo', name: 'echo', generation },
    spec: { host: HOST, subsets: subsets.map((s) => ({ name: s, labels: { version: s } })) },
  };
}

function vs(weights: number[], subsets = ['v1', 'v2'], generation = 1): VirtualService {
  return {
    kind: 'VirtualService',
    metadata: { namespace: 'demo', name: 'echo', generation },
    spec: { hosts: [HOST], http: [{ route: weights.map((w, i) => ({ destination: { host: HOST, subset: subsets[i]! }, weight: w })) }] },
  };
}

test('a 90/10 split over defined subsets is accepted', () => {
  const r = validatePolicy({ virtualServices: [vs([90, 10])], destinationRules: [dr()] });
  assert.deepEqual(r.rejected, []);
  assert.equal(r.accepted.virtualServices.length, 1);
});

test('weights not summing to 100 are rejected with the field path and the sum', () => {
  const r = validatePolicy({ virtualServices: [vs([90, 20])], destinationRules: [dr()] });
  assert.equal(r.accepted.virtualServices.length, 0);
  assert.equal(r.rejected.length, 1);
  assert.match(r.rejected[0]!.reasons.join('\n'), /spec\.http\[0\]\.route: weights sum to 110/);
});

test('an unknown subset is rejected naming the subset and the host', () => {
  const r = validatePolicy({ virtualServices: [vs([50, 50], ['v1', 'v3'])], destinationRules: [dr()] });
  assert.match(r.rejected[0]!.reasons.join('\n'), /spec\.http\[0\]\.route\[1\]\.destination\.subset: subset "v3".*echo\.demo/);
});

test('regexes RE2 refuses are rejected; RE2-compatible ones pass', () => {
  assert.match(checkRe2('(?<=a)b') ?? '', /lookaround/);
  assert.match(checkRe2('(a)\\1') ?? '', /backreference/);
  assert.match(checkRe2('a(') ?? '', /does not compile/);
  assert.equal(checkRe2('^/api/v[0-9]+/.*$'), undefined);
  const bad = vs([100], ['v1']);
  bad.spec.http![0]!.match = [{ headers: { 'x-user': { regex: '(?!admin).*' } } }];
  const r = validatePolicy({ virtualServices: [bad], destinationRules: [dr()] });
  assert.match(r.rejected[0]!.reasons[0]!, /^spec\.http\[0\]\.match\[0\]\.headers\.x-user\.regex: .*lookaround/);
});

test('durations follow Istio rules', () => {
  assert.deepEqual(parseDuration('1s'), { ms: 1000 });
  assert.deepEqual(parseDuration('250ms'), { ms: 250 });
  assert.deepEqual(parseDuration('1.5s'), { ms: 1500 });
  assert.ok('error' in parseDuration('1 sec'));
  assert.ok('error' in parseDuration('-1s'));
  const bad = vs([100], ['v1']);
  bad.spec.http![0]!.timeout = '3 seconds';
  bad.spec.http![0]!.fault = { abort: { httpStatus: 999, percentage: { value: 150 } } };
  const reasons = validatePolicy({ virtualServices: [bad], destinationRules: [dr()] }).rejected[0]!.reasons.join('\n');
  assert.match(reasons, /spec\.http\[0\]\.timeout: "3 seconds" is not a duration/);
  assert.match(reasons, /spec\.http\[0\]\.fault\.abort\.httpStatus: 999/);
  assert.match(reasons, /spec\.http\[0\]\.fault\.abort\.percentage\.value: must be a number in 0\.\.100/);
});

test('DestinationRule checks: consistentHash needs a header, pool numbers sane, bad hosts refused', () => {
  const bad = dr();
  bad.spec.host = 'Not_A_Host';
  bad.spec.trafficPolicy = {
    loadBalancer: { consistentHash: {} },
    connectionPool: { tcp: { maxConnections: 0 } },
    outlierDetection: { interval: 'soon', maxEjectionPercent: 101 },
  };
  const reasons = validatePolicy({ virtualServices: [], destinationRules: [bad] }).rejected[0]!.reasons.join('\n');
  for (const re of [/spec\.host: "Not_A_Host"/, /consistentHash\.httpHeaderName/, /tcp\.maxConnections: must be an integer >= 1/, /outlierDetection\.interval/, /maxEjectionPercent/]) {
    assert.match(reasons, re);
  }
});

test('reconcile keeps the previous good generation when the new one is invalid, and the rest moves on', () => {
  const other: VirtualService = { ...vs([100], ['v1']), metadata: { namespace: 'demo', name: 'other', generation: 1 } };
  const first = reconcile({ virtualServices: [], destinationRules: [] }, { virtualServices: [vs([90, 10]), other], destinationRules: [dr()] });
  assert.deepEqual(first.rejected, []);
  const otherV2: VirtualService = { ...vs([100], ['v2']), metadata: { namespace: 'demo', name: 'other', generation: 2 } };
  const second = reconcile(first.good, { virtualServices: [vs([90, 20], ['v1', 'v2'], 2), otherV2], destinationRules: [dr()] });
  assert.equal(second.rejected.length, 1);
  assert.equal(second.rejected[0]!.generation, 2);
  const echo = second.good.virtualServices.find((v) => v.metadata.name === 'echo')!;
  assert.equal(echo.metadata.generation, 1, 'previous valid generation still served');
  assert.equal(second.good.virtualServices.find((v) => v.metadata.name === 'other')!.metadata.generation, 2);
  // An object invalid from its first generation is simply not served.
  const third = reconcile({ virtualServices: [], destinationRules: [] }, { virtualServices: [vs([1, 2])], destinationRules: [dr()] });
  assert.equal(third.good.virtualServices.length, 0);
});
