// The push scheduler alone, on mocked timers: bursts of changes become one push, and a steady stream of changes
// still pushes within maxDelayMs of its first change.
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { PushScheduler } from '../../src/pilot/pushScheduler.ts';

test('a burst of changes is pushed once, debounceMs after the last; a steady stream still pushes by maxDelayMs', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  try {
    const flushes: number[] = [];
    const s = new PushScheduler((since) => flushes.push(Date.now() - since), { debounceMs: 20, maxDelayMs: 100 });
    for (let i = 0; i < 5; i++) {
      s.changed();
      mock.timers.tick(10);
    }
    assert.deepEqual(flushes, [], 'still changing: not yet');
    mock.timers.tick(10);
    assert.deepEqual(flushes, [60], 'one push, 20 ms after the last of five changes');
    assert.equal(s.pending(), false);
    // a change every 10 ms never leaves 20 ms of quiet: pushed 100 ms after the first anyway
    for (let i = 0; i < 10; i++) {
      s.changed();
      mock.timers.tick(10);
    }
    assert.equal(flushes.length >= 2, true);
    assert.equal(flushes[1], 100);
    s.cancel();
    const n = flushes.length;
    mock.timers.tick(1000);
    assert.equal(flushes.length, n, 'cancelled: no push');
  } finally {
    mock.timers.reset();
  }
});
