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

test('dev call: a header without "NAME: VALUE" or a method that is not one is a usage error naming the flag, before any playground is needed', async () => {
  const h = await meshfed(['dev', 'call', 'echo', '-H', 'x-token=abc', '--state-dir', '/nonexistent']);
  assert.equal(h.code, 2);
  assert.match(h.stderr, /--header must be "NAME: VALUE", got "x-token=abc"/);
  const x = await meshfed(['dev', 'call', 'echo', '-X', 'GET /', '--state-dir', '/nonexistent']);
  assert.equal(x.code, 2);
  assert.match(x.stderr, /--method must be an HTTP method such as GET or POST, got "GET \/"/);
  const none = await meshfed(['dev', 'call', 'echo', '-X', 'post', '-H', 'content-type: text/plain', '--state-dir', '/nonexistent']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no playground is running/);
});
