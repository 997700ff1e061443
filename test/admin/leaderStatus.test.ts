// Which replica leads, as the admin server (/debug/leader) and `meshfed status` show it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startAdminServer } from '../../src/admin/server.ts';
import { renderLeadership } from '../../src/admin/status.ts';
import type { Leadership } from '../../src/admin/sources.ts';
import { MemorySources } from './fixtures.ts';

const follower: Leadership = { identity: 'cp-2', lease: 'Lease meshfed-system/meshfed-control-plane', leading: false, leader: 'cp-1', leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2, transitions: 3 };

test('status: the replica asked, its role and the leader; without leader election, says so', () => {
  assert.match(renderLeadership(follower), /^REPLICA\s+ROLE\s+LEADER\s+LEASE\s+TRANSITIONS\ncp-2\s+FOLLOWER\s+cp-1\s+Lease meshfed-system\/meshfed-control-plane \(15s\)\s+3$/);
  assert.match(renderLeadership({ ...follower, identity: 'cp-1', leading: true }), /\ncp-1\s+LEADER\s+cp-1\s/);
  assert.match(renderLeadership({ ...follower, leader: '' }), /FOLLOWER\s+\(none\)/);
  assert.equal(renderLeadership({ enabled: false }), 'leader election off: this replica writes alone');
});

test('/debug/leader serves the leadership source, or {enabled:false} without one', async () => {
  const src = new MemorySources();
  const plain = await startAdminServer(src, { port: 0 });
  const elected = await startAdminServer(Object.assign(Object.create(src) as MemorySources, { leadership: () => follower }), { port: 0 });
  try {
    assert.deepEqual(await (await fetch(`${plain.url}/debug/leader`)).json(), { enabled: false });
    assert.deepEqual(await (await fetch(`${elected.url}/debug/leader`)).json(), follower);
  } finally {
    await plain.close();
    await elected.close();
  }
});
