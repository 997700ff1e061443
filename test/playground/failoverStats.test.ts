import assert from 'node:assert/strict';
import { test } from 'node:test';
import { failoverFigures, percentile, type RequestRecord } from '../../src/playground/failoverStats.ts';

const rec = (doneAt: number, region: string | undefined): RequestRecord => ({ sentAt: doneAt - 5, doneAt, ok: region !== undefined, ...(region ? { region } : {}) });

test('failover figures: first remote answer, steady state, failures', () => {
  const log = [rec(10, 'east'), rec(20, 'east'), rec(110, 'east'), rec(130, 'west'), rec(140, 'east'), rec(160, 'west'), rec(170, 'west')];
  const f = failoverFigures(log, 100, 'east');
  assert.equal(f.failed, 0);
  assert.equal(f.firstRemoteMs, 30);
  assert.equal(f.steadyMs, 60);
  assert.deepEqual(f.byRegion, { east: 4, west: 3 });
});

test('a failed request is counted and never served traffic does not settle', () => {
  const f = failoverFigures([rec(10, 'east'), rec(120, undefined), rec(130, 'east')], 100, 'east');
  assert.equal(f.failed, 1);
  assert.equal(f.firstRemoteMs, undefined);
  assert.equal(f.steadyMs, undefined);
});

test('percentile picks the nearest rank', () => {
  assert.equal(percentile([5, 1, 3, 2, 4], 50), 3);
  assert.equal(percentile([5, 1, 3, 2, 4], 100), 5);
  assert.ok(Number.isNaN(percentile([], 50)));
});
