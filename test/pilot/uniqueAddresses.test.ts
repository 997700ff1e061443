import assert from 'node:assert/strict';
import { test } from 'node:test';
import { oneEntryPerAddress } from '../../src/pilot/uniqueAddresses.ts';

const lb = (address: string, w: number) => ({ endpoint: { address: { socket_address: { address, port_value: 15443 } } }, load_balancing_weight: { value: w } });
const loc = (zone: string, priority: number, weight: number, lbs: ReturnType<typeof lb>[]) => ({ locality: { zone }, priority, load_balancing_weight: { value: weight }, lb_endpoints: lbs });
const show = (xs: ReturnType<typeof loc>[]) => xs.map((x) => `${x.locality.zone}@${x.priority} w${x.load_balancing_weight.value}: ${x.lb_endpoints.map((l) => `${l.endpoint.address.socket_address.address}×${l.load_balancing_weight.value}`).join(' ')}`);

test('repeated addresses fold into the first (best priority) entry, with the weights they carried; emptied localities go', () => {
  const input = [loc('a', 0, 2, [lb('10.0.0.1', 1), lb('10.0.0.2', 1)]), loc('b', 1, 3, [lb('gw', 3)]), loc('c', 1, 1, [lb('gw', 1)]), loc('d', 2, 2, [lb('gw', 2)])];
  const before = JSON.stringify(input);
  assert.deepEqual(show(oneEntryPerAddress(input)), ['a@0 w2: 10.0.0.1×1 10.0.0.2×1', 'b@1 w6: gw×6']);
  assert.equal(JSON.stringify(input), before, 'the input is not changed');
});

test('locality weights not equal to endpoint counts (DestinationRule distribute) move in proportion', () => {
  // b: weight 600 over gw×1 and 10.0.0.3×2 — gw carries a third of it (200); c's gw carries all of c's 400
  const out = oneEntryPerAddress([loc('c', 0, 400, [lb('gw', 4)]), loc('b', 0, 600, [lb('gw', 1), lb('10.0.0.3', 2)])]);
  assert.deepEqual(show(out), ['c@0 w600: gw×5', 'b@0 w400: 10.0.0.3×2']);
});

test('an address twice in one locality keeps that locality weight', () => {
  assert.deepEqual(show(oneEntryPerAddress([loc('a', 0, 3, [lb('gw', 1), lb('gw', 2)])])), ['a@0 w3: gw×3']);
});
