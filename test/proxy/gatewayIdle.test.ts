import { test } from 'node:test';
import assert from 'node:assert/strict';
import { idlePairs, sweepEveryMs } from '../../src/proxy/gatewayIdle.ts';

test('a pair is idle once its byte count has not moved for the timeout; any byte starts the wait over', () => {
  const a = { name: 'a', bytes: 0, seen: 0, quietSince: 0 };
  const b = { name: 'b', bytes: 0, seen: 0, quietSince: 0 };
  assert.deepEqual(idlePairs([a, b], 999, 1000), []);
  b.bytes = 10; // b moved a byte before this sweep
  assert.deepEqual(idlePairs([a, b], 1000, 1000).map((p) => p.name), ['a']);
  assert.equal(b.quietSince, 1000, 'seen moving at this sweep');
  assert.deepEqual(idlePairs([b], 1999, 1000), []);
  assert.deepEqual(idlePairs([b], 2000, 1000).map((p) => p.name), ['b']);
});

test('sweeps run at a quarter of the timeout, within 50 ms and 60 s', () => {
  assert.equal(sweepEveryMs(400), 100);
  assert.equal(sweepEveryMs(100), 50);
  assert.equal(sweepEveryMs(3_600_000), 60_000);
});
