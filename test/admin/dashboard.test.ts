// Loads the dashboard in headless Debian Chromium (playwright-core), then takes a region down and checks
// that the page shows it without reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startAdminServer } from '../../src/admin/server.ts';
import { MemorySources } from './fixtures.ts';

const CHROMIUM = '/usr/bin/chromium';
const OUT = join(process.cwd(), 'test-output');

test('dashboard shows all clusters and regions and a region going down, live', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} missing: apt-get install -y chromium`, timeout: 60_000 }, async () => {
  const src = new MemorySources();
  const admin = await startAdminServer(src, { port: 0 });
  const profile = mkdtempSync(join(tmpdir(), 'meshfed-chromium-'));
  // a fresh profile directory (playwright passes it as --user-data-dir)
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
    timeout: 30_000,
  });
  try {
    const page = await browser.newPage();
    await page.goto(admin.url + '/', { timeout: 15_000 });
    for (const region of ['us-east', 'us-west']) await page.locator(`[data-region="${region}"]`).waitFor({ timeout: 10_000 });
    for (const c of ['east-1', 'east-2', 'west-1']) {
      assert.match(await page.locator(`[data-cluster="${c}"] .pill`).innerText({ timeout: 5000 }), /connected/);
    }
    assert.match(await page.locator('#traffic').innerText(), /not available/);
    await page.locator('#conn', { hasText: 'live' }).waitFor({ timeout: 5000 });

    src.regionDown('us-west');
    await page.locator('[data-region="us-west"].down').waitFor({ timeout: 5000 });
    assert.match(await page.locator('[data-cluster="west-1"] .pill').innerText(), /unreachable/);
    assert.match(await page.locator('[data-region="us-west"] [data-gateway] .pill').innerText(), /unreachable/);
    assert.match(await page.locator('[data-cluster="east-1"] .pill').innerText(), /connected/);
    await page.locator('#events li', { hasText: 'failover.started' }).waitFor({ timeout: 5000 });
    await page.locator('#events li', { hasText: 'cluster.unreachable' }).first().waitFor({ timeout: 5000 });
    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: join(OUT, 'dashboard-region-down.png'), fullPage: true });
  } finally {
    await browser.close();
    await admin.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
