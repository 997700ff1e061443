import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OutgoingHttpHeaders } from 'node:http';
import { ensureTraceHeaders, validTraceparent } from '../../src/proxy/trace.ts';
import { parsePeerHeader, peerHeader } from '../../src/proxy/requestMetrics.ts';

test('trace headers: valid ones kept, missing or invalid ones created', () => {
  const keep: OutgoingHttpHeaders = { 'x-request-id': 'r1', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'a=1' };
  ensureTraceHeaders(keep);
  assert.deepEqual(keep, { 'x-request-id': 'r1', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'a=1' });
  const fresh: OutgoingHttpHeaders = {};
  ensureTraceHeaders(fresh);
  assert.ok(validTraceparent(fresh.traceparent), String(fresh.traceparent));
  assert.match(String(fresh['x-request-id']), /^[0-9a-f-]{36}$/);
  const other: OutgoingHttpHeaders = {};
  ensureTraceHeaders(other);
  assert.notEqual(other.traceparent, fresh.traceparent);
  const bad: OutgoingHttpHeaders = { traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01', tracestate: 'x=1' };
  ensureTraceHeaders(bad);
  assert.ok(validTraceparent(bad.traceparent));
  assert.equal(bad.tracestate, undefined);
  assert.equal(validTraceparent('garbage'), false);
});

test('peer header round-trips and ignores junk', () => {
  assert.deepEqual(parsePeerHeader(peerHeader('c1', 'eu-west')), { cluster: 'c1', region: 'eu-west' });
  assert.deepEqual(parsePeerHeader('cluster=a b;region=x;other=y'), { region: 'x' });
  assert.deepEqual(parsePeerHeader(undefined), {});
});
