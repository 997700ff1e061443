// Loads the dashboard in headless Debian Chromium (playwright-core) against in-memory sources and a fake proxy
// metrics endpoint: the graph and its edges with rates, a region going down without reload, keyboard and deep links,
// and the page noticing a control-plane restart ("disconnected", then live again).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startAdminServer } from '../../src/admin/server.ts';
import { MemorySources, startFakeProxy, type FakeFlow } from './fixtures.ts';

const CHROMIUM = '/usr/bin/chromium';
const OUT = join(process.cwd(), 'test-output');
const H = 'reviews.bookinfo.svc.cluster.local';
const flow = (from: string, fromRegion: string, to: string, toRegion: string, rps: number): FakeFlow =>
  ({ srcWorkload: 'productpage', srcCluster: from, srcRegion: fromRegion, dstService: H, dstCluster: to, dstRegion: toRegion, rps });

test('dashboard: graph with traffic edges, a region going down, keyboard and deep links, reconnect after a restart — live', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} missing: apt-get install -y chromium`, timeout: 90_000 }, async () => {
  const src = new MemorySources();
  const proxy = await startFakeProxy([flow('east-1', 'us-east', 'east-1', 'us-east', 20), flow('west-1', 'us-west', 'west-1', 'us-west', 10)]);
  src.targets = [{ name: 'productpage', url: proxy.url }];
  let admin = await startAdminServer(src, { port: 0 });
  const port = admin.port;
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
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(admin.url + '/', { timeout: 15_000 });
    await page.locator('#conn', { hasText: 'live' }).waitFor({ timeout: 10_000 });
    // the tables (text version) stay
    for (const region of ['us-east', 'us-west']) await page.locator(`[data-region="${region}"]`).waitFor({ timeout: 10_000 });
    for (const c of ['east-1', 'east-2', 'west-1']) assert.match(await page.locator(`[data-cluster="${c}"] .pill`).innerText({ timeout: 5000 }), /connected/);

    // graph: every cluster and gateway drawn by cytoscape; traffic edges with requests/s
    const drawnIds = await page.evaluate(() => (window as unknown as { meshGraph: { cy: { nodes(): { map<T>(f: (n: { id(): string }) => T): T[] } } } }).meshGraph.cy.nodes().map((n) => n.id()));
    for (const id of ['region/us-east', 'cluster/east-2', 'gateway/net-west', 'service/west-1/bookinfo/reviews']) assert.ok(drawnIds.includes(id), `${id} drawn`);
    const local = page.locator('#edges-table tr[data-edge="workload/east-1/productpage->service/east-1/bookinfo/reviews"]');
    await local.waitFor({ timeout: 10_000 });
    assert.ok(Number(await local.locator('.rps').innerText()) > 5);

    // a new cross-network flow shows through the destination's gateway
    const t0 = Date.now();
    proxy.flows = [...proxy.flows, flow('east-2', 'us-east', 'west-1', 'us-west', 5)];
    await page.locator('#edges-table tr[data-edge="workload/east-2/productpage->gateway/net-west"]').waitFor({ timeout: 10_000 });
    await page.locator('#edges-table tr[data-edge="gateway/net-west->service/west-1/bookinfo/reviews"]').waitFor({ timeout: 5000 });
    console.log(`# new traffic shown on the graph after ${Date.now() - t0} ms`);

    // keyboard: focus the graph, arrow to an item, the side panel shows it; Esc clears
    await page.locator('#graph').focus();
    await page.keyboard.press('ArrowRight');
    await page.locator('#side-title', { hasText: 'Selected' }).waitFor({ timeout: 5000 });
    assert.ok((await page.locator('#side-body .side-item').count()) === 1);
    await page.keyboard.press('Escape');
    await page.locator('#side-title', { hasText: 'Details' }).waitFor({ timeout: 5000 });
    // deep link to a service: selected in every cluster it runs in, with sparklines
    await page.goto(admin.url + '/#service=bookinfo/reviews', { timeout: 15_000 });
    await page.locator('#side-body .side-item').nth(2).waitFor({ timeout: 10_000 });
    await page.locator('#side-body svg.spark').first().waitFor({ timeout: 10_000 });

    src.regionDown('us-west');
    await page.locator('[data-region="us-west"].down').waitFor({ timeout: 5000 });
    await page.locator('#edges-table li[data-node="cluster/west-1"][data-state="unreachable"]').waitFor({ timeout: 5000 });
    await page.locator('#edges-table li[data-node="gateway/net-west"][data-state="unreachable"]').waitFor({ timeout: 5000 });
    assert.match(await page.locator('[data-cluster="west-1"] .pill').innerText(), /unreachable/);
    assert.match(await page.locator('[data-cluster="east-1"] .pill').innerText(), /connected/);
    await page.locator('#events li', { hasText: 'failover.started' }).waitFor({ timeout: 5000 });
    await page.locator('#failover-banner', { hasText: 'us-west down' }).waitFor({ timeout: 5000 });
    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: join(OUT, 'dashboard-region-down.png'), fullPage: true });

    // the control plane restarts: the page says so, then reconnects by itself and the graph moves on
    await admin.close();
    await page.locator('#conn', { hasText: 'disconnected' }).waitFor({ timeout: 5000 });
    const before = await page.locator('body').getAttribute('data-graph-at');
    admin = await startAdminServer(src, { port });
    await page.locator('#conn', { hasText: 'live' }).waitFor({ timeout: 15_000 });
    await page.waitForFunction((b) => document.body.dataset['graphAt'] !== b, before, { timeout: 10_000 });
    assert.deepEqual(pageErrors, []);
  } finally {
    await browser.close();
    await admin.close();
    await proxy.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
