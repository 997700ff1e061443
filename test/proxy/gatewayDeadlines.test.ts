import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Deadlines } from '../../src/proxy/gatewayDeadlines.ts';

test('deadlines run in order once due, never when cancelled, with one timer for all', () => {
  let now = 1000;
  const d = new Deadlines<() => void>(100, (f) => f(), () => now);
  const ran: string[] = [];
  const a = () => ran.push('a');
  const b = () => ran.push('b');
  const c = () => ran.push('c');
  d.add(a);
  now = 1040; d.add(b);
  now = 1060; d.add(c);
  d.cancel(b);
  now = 1099;
  assert.equal(d.expire(), 0, 'nothing is due before its time');
  now = 1100;
  assert.equal(d.expire(), 1);
  assert.deepEqual(ran, ['a']);
  now = 1200;
  assert.equal(d.expire(), 1, 'the cancelled one never runs');
  assert.deepEqual(ran, ['a', 'c']);
  assert.equal(d.size, 0);
  d.add(a);
  d.clear();
  now = 5000;
  assert.equal(d.expire(), 0, 'cleared: nothing runs');
});

test('adding a pending key again restarts its wait, behind the others', () => {
  let now = 0;
  const ran: string[] = [];
  const d = new Deadlines<string>(100, (k) => ran.push(k), () => now);
  d.add('a');
  now = 10; d.add('b');
  now = 50; d.add('a');
  now = 110;
  assert.equal(d.expire(), 1);
  assert.deepEqual(ran, ['b'], 'a was added again at 50: due at 150, after b');
  now = 150;
  d.expire();
  assert.deepEqual(ran, ['b', 'a']);
});

test('an action that adds another during expiry is handled on a later expiry', async () => {
  const d = new Deadlines<() => void>(20, (f) => f());
  const ran: string[] = [];
  const second = () => ran.push('second');
  d.add(() => { ran.push('first'); d.add(second); });
  await new Promise((r) => setTimeout(r, 120));
  assert.deepEqual(ran, ['first', 'second'], 'the real timer re-arms for what is still pending');
  d.clear();
});
