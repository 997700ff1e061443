// What a watcher logs during an outage (src/kube/outageLog.ts): one line when it goes down, a summary at most once a
// minute, one line with a plain summary when it is back — not a line per retry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Outage, type OutageLine } from '../../src/kube/outageLog.ts';

test('60 s of failed retries at 6.6 a second log one line; the recovery one more, with a plain summary', () => {
  const o = new Outage('traffic policy in cluster east-1');
  const lines: OutageLine[] = [];
  const t0 = 1_000_000;
  let now = t0;
  for (; now < t0 + 60_000; now += 150) {
    const l = o.failed('unreachable', 'connect ECONNREFUSED 127.0.0.1:6443', now);
    if (l) lines.push(l);
  }
  const back = o.recovered(now);
  assert.equal(lines.length, 1 + 0, lines.map((l) => l.msg).join('\n')); // under a minute: no summary yet
  assert.match(lines[0]!.msg, /^traffic policy in cluster east-1 unreachable: connect ECONNREFUSED 127\.0\.0\.1:6443; retrying with backoff/);
  assert.equal(lines[0]!.level, 'warn');
  assert.ok(back);
  assert.equal(back.level, 'info');
  assert.equal(back.msg, 'traffic policy in cluster east-1 is back after 1 min 0 s unreachable (400 failed attempts; last: connect ECONNREFUSED 127.0.0.1:6443)');
  assert.equal(o.recovered(now + 1), undefined, 'back only once');
});

test('a long outage: a summary at most once a minute; a new kind of failure is a new line', () => {
  const o = new Outage('cluster west-1');
  const lines: string[] = [];
  let now = 0;
  const fail = (state: string, reason: string) => { const l = o.failed(state, reason, now); if (l) lines.push(l.msg); };
  for (; now <= 150_000; now += 1000) fail('unreachable', 'timeout');
  assert.deepEqual(lines, [
    'cluster west-1 unreachable: timeout; retrying with backoff (quietly: a summary at most once a minute, and a line when it is back)',
    'cluster west-1 still unreachable after 1 min 0 s (61 failed attempts; last: timeout)',
    'cluster west-1 still unreachable after 2 min 0 s (121 failed attempts; last: timeout)',
  ]);
  fail('error', 'access denied (403 Forbidden)');
  assert.equal(lines.at(-1), 'cluster west-1 error: access denied (403 Forbidden); retrying with backoff');
  fail('error', 'access denied (403 Forbidden)');
  assert.equal(lines.length, 4);
});
