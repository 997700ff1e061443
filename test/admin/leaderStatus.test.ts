// Which replica leads, as the admin server (/debug/leader) and `meshfed status` show it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startAdminServer } from '../../src/admin/server.ts';
import { renderLeadership } from '../../src/admin/status.ts';
import type { Leadership } from '../../src/admin/sources.ts';
import { MemorySources } from './fixtures.ts';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

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

test('dashboard: the header says which replica leads and whether it is this one', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} missing`, timeout: 60_000 }, async () => {
  let now: Leadership = follower;
  const src = Object.assign(Object.create(new MemorySources()) as MemorySources, { leadership: () => now });
  const admin = await startAdminServer(src, { port: 0 });
  const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'meshfed-chromium-')), {
    executablePath: CHROMIUM, headless: true, timeout: 30_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(admin.url + '/', { timeout: 15_000 });
    await page.locator('#leader', { hasText: 'replica cp-2, following cp-1' }).waitFor({ timeout: 10_000 });
    now = { ...follower, identity: 'cp-2', leading: true, leader: 'cp-2' };
    await page.locator('#leader', { hasText: 'leader: cp-2 (this replica)' }).waitFor({ timeout: 10_000 });
  } finally {
    await browser.close();
    await admin.close();
  }
});
