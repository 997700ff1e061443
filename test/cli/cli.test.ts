import assert from 'node:assert/strict';
import { test } from 'node:test';
import { meshfed } from '../helpers/meshfed.ts';

test('meshfed --help lists every command with one line each', async () => {
  const r = await meshfed(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Usage: meshfed <command>/);
  assert.match(r.stdout, /^\s+version\s+print the meshfed version$/m);
});

test('an unknown command exits 2 with a clear error', async () => {
  const r = await meshfed(['frobnicate']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command "frobnicate"/);
});

test('an unknown flag exits 2 and names the flag', async () => {
  const r = await meshfed(['version', '--bogus']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--bogus/);
});

test('<cmd> --help prints the command usage', async () => {
  const r = await meshfed(['version', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Usage: meshfed version/);
});
