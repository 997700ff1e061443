import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseXdsAddresses, reconnectDelay, XDS_BACKOFF, XDS_STARTUP_BACKOFF } from '../../src/xds/xdsAddresses.ts';

test('parseXdsAddresses: one address (a Service), several replicas, IPv6; a bad entry is named', () => {
  assert.deepEqual(parseXdsAddresses('meshfed.meshfed-system.svc:15010'), ['meshfed.meshfed-system.svc:15010']);
  assert.deepEqual(parseXdsAddresses('127.0.0.1:15010, 127.0.0.1:15011'), ['127.0.0.1:15010', '127.0.0.1:15011']);
  assert.deepEqual(parseXdsAddresses('[::1]:15010,cp-2:15010'), ['[::1]:15010', 'cp-2:15010']);
  assert.throws(() => parseXdsAddresses(''), /empty/);
  assert.throws(() => parseXdsAddresses('127.0.0.1:15010,cp-2'), /"cp-2" in "127.0.0.1:15010,cp-2" is not HOST:PORT/);
  assert.throws(() => parseXdsAddresses('127.0.0.1:15010,,127.0.0.1:1'), /"" in/);
  assert.throws(() => parseXdsAddresses('cp:70000'), /"cp:70000"/);
});

test('reconnectDelay: within 200 ms after a stream that was up, then from 200–400 ms doubling with jitter, capped at 10 s', () => {
  assert.equal(reconnectDelay(0, 0), 0);
  assert.equal(reconnectDelay(0, 0.999), 200);
  assert.equal(reconnectDelay(1, 0), 200);
  assert.equal(reconnectDelay(1, 0.999), 400);
  assert.equal(reconnectDelay(2, 0.5), 600);
  assert.equal(reconnectDelay(4, 0), 1600);
  assert.equal(reconnectDelay(20, 0), XDS_BACKOFF.maxMs);
  assert.equal(reconnectDelay(6, 0.9), XDS_BACKOFF.maxMs);
  // jitter spreads a herd: 100 proxies of a dead replica do not come back in the same millisecond
  for (const f of [0, 1]) assert.ok(new Set(Array.from({ length: 100 }, (_v, i) => reconnectDelay(f, i / 100))).size > 90);
});

test('reconnectDelay before the first configuration: the same start, but never more than 1 s between attempts', () => {
  assert.equal(reconnectDelay(1, 0, XDS_STARTUP_BACKOFF), 200);
  assert.equal(reconnectDelay(2, 0.999, XDS_STARTUP_BACKOFF), 800);
  for (let f = 0; f < 30; f++) for (const r of [0, 0.5, 0.999]) assert.ok(reconnectDelay(f, r, XDS_STARTUP_BACKOFF) <= 1000);
  assert.equal(reconnectDelay(10, 0.5, XDS_STARTUP_BACKOFF), 1000);
});
