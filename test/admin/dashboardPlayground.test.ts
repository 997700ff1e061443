// The dashboard of a running playground (real stand-ins, control plane, gateways, meshed demo with traffic) in
// headless Debian Chromium: all clusters and regions appear, inter-region request rates show, and taking a region
// down shows up on the page without a reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { parseTopology } from '../../src/mesh/topology.ts';
import { startMeshPlayground } from '../../src/playground/mesh.ts';

const CHROMIUM = '/usr/bin/chromium';
const OUT = join(process.cwd(), 'test-output');
const topology = parseTopology(readFileSync(new URL('./playground-topology.yaml', import.meta.url), 'utf8'));

test('dashboard of a running playground: clusters, regions, traffic between regions, a region going down — live', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} missing: apt-get install -y chromium`, timeout: 180_000 }, async () => {
  const pg = await startMeshPlayground({ topology, stateDir: mkdtempSync(join(tmpdir(), 'meshfed-dash-')), ports: { xds: 0, secure: 0, admin: 0 }, trafficEveryMs: 200 });
  const profile = mkdtempSync(join(tmpdir(), 'meshfed-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1280, height: 900 }, timeout: 30_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${pg.controlPlane.ports.admin}/`, { timeout: 15_000 });
    for (const region of ['us-east', 'us-west']) await page.locator(`[data-region="${region}"]`).waitFor({ timeout: 10_000 });
    for (const c of ['east-1', 'east-2', 'west-1']) assert.match(await page.locator(`[data-cluster="${c}"] .pill`).innerText({ timeout: 5000 }), /connected/);
    // the demo clients' traffic, from the sidecars' istio_requests_total
    await page.locator('#traffic td', { hasText: 'us-west → us-west' }).waitFor({ timeout: 20_000 });
    await page.locator('#conn', { hasText: 'live' }).waitFor({ timeout: 5000 });

    await pg.failRegion('us-west');
    await page.locator('[data-region="us-west"].down').waitFor({ timeout: 10_000 });
    assert.match(await page.locator('[data-cluster="west-1"] .pill').innerText(), /unreachable/);
    assert.match(await page.locator('[data-cluster="east-1"] .pill').innerText(), /connected/);
    await page.locator('#events li', { hasText: 'failover.started' }).waitFor({ timeout: 10_000 });
    // west-1's client keeps being served — by us-east now
    await page.locator('#traffic td', { hasText: 'us-west → us-east' }).waitFor({ timeout: 20_000 });
    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: join(OUT, 'dashboard-playground-region-down.png'), fullPage: true });

    await pg.restoreRegion('us-west');
    await page.locator('#events li', { hasText: 'failover.ended' }).waitFor({ timeout: 20_000 });
  } finally {
    await browser.close();
    await pg.stop();
    rmSync(profile, { recursive: true, force: true });
  }
});
