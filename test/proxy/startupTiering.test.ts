import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ownsInterruptBudget, startupOver } from '../../src/proxy/startupTiering.ts';

test('start-up ends once the proxy is ready and its configuration has been quiet for the whole period', () => {
  assert.equal(startupOver(false, 0, 10_000, 1000), false, 'not ready: start-up goes on');
  assert.equal(startupOver(true, 9_500, 10_000, 1000), false, 'a push 500 ms ago: still settling');
  assert.equal(startupOver(true, 9_000, 10_000, 1000), true);
  assert.equal(startupOver(true, 0, 10_000, 1000), true, 'ready without any push yet counted (gateway with no endpoints)');
});

test('an operator\'s own --interrupt-budget (command line or NODE_OPTIONS) is left alone', () => {
  assert.equal(ownsInterruptBudget(['--max-semi-space-size=1'], ''), true);
  assert.equal(ownsInterruptBudget(['--interrupt-budget=100000'], ''), false);
  assert.equal(ownsInterruptBudget([], '--optimize-for-size --interrupt_budget=5000'), false);
  assert.equal(ownsInterruptBudget(['--interrupt-budget-for-feedback-allocation=900'], ''), true, 'another flag with the same prefix');
});

test('during start-up V8 leaves hot functions unoptimized; after it, it optimizes them as before', () => {
  const probe = fileURLToPath(new URL('./fixtures/tieringProbe.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--no-concurrent-recompilation', '--import', 'tsx', probe], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const { limit, before, duringStartup, after } = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
  assert.ok(before <= limit, `V8 never optimized the probe before start-up (${before} calls): the probe is broken`);
  assert.ok(duringStartup > limit, `optimized after ${duringStartup} calls during start-up (before: ${before})`);
  assert.ok(after <= limit, `not optimized within ${limit} calls after start-up: the default budget was not restored`);
});
