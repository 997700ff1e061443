// The dashboard of a running playground (real stand-ins, control plane, gateways, meshed demo with traffic) in
// headless Debian Chromium: the graph shows every region, cluster, gateway and the echo service; traffic appears as
// edges with rates; `dev failover --region us-east` (pg.failRegion, what the command calls) moves east-1's sleep
// traffic through the us-west gateway and shows us-east unreachable, without a reload; `dev restore` brings it back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { parseTopology } from '../../src/mesh/topology.ts';
import { startMeshPlayground } from '../../src/devcluster/playground/mesh.ts';
import { SIDECAR_METRICS } from '../../src/devcluster/playground/demo.ts';

const CHROMIUM = '/usr/bin/chromium';
const OUT = join(process.cwd(), 'test-output');
const topology = parseTopology(readFileSync(new URL('./playground-topology.yaml', import.meta.url), 'utf8'));

interface Model { nodes: { id: string; kind: string; state: string; service?: string }[]; edges: { id: string; kind: string; source: string; target: string; rps: number }[] }
const model = (page: Page): Promise<Model> => page.evaluate(() => (window as unknown as { meshGraph: { model: Model } }).meshGraph.model);
/** what cytoscape drew: node ids with a rendered box inside the graph's canvas */
const drawn = (page: Page): Promise<string[]> => page.evaluate(() => {
  const cy = (window as unknown as { meshGraph: { cy: { nodes(): { forEach(f: (n: { id(): string; renderedBoundingBox(): { x1: number; y1: number; w: number; h: number } }) => void): void }; width(): number; height(): number } } }).meshGraph.cy;
  const out: string[] = [];
  cy.nodes().forEach((n) => { const b = n.renderedBoundingBox(); if (b.w > 0 && b.h > 0 && b.x1 > -b.w && b.y1 > -b.h && b.x1 < cy.width() && b.y1 < cy.height()) out.push(n.id()); });
  return out;
});
const edgeRow = (page: Page, id: string) => page.locator(`#edges-table tr[data-edge="${id}"]`);
const nodeState = (page: Page, id: string) => page.locator(`#edges-table li[data-node="${id}"]`).getAttribute('data-state', { timeout: 5000 });

test('dashboard graph of a running playground: regions, clusters, gateways, echo; traffic edges with rates; failover through the other gateway and back — live', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} missing: apt-get install -y chromium`, timeout: 240_000 }, async () => {
  const pg = await startMeshPlayground({ topology, stateDir: mkdtempSync(join(tmpdir(), 'meshfed-dash-')), ports: { xds: 0, secure: 0, admin: 0 }, trafficEveryMs: 200 });
  const profile = mkdtempSync(join(tmpdir(), 'meshfed-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1280, height: 900 }, timeout: 30_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  mkdirSync(OUT, { recursive: true });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${pg.controlPlane.ports.admin}/`, { timeout: 15_000 });
    await page.locator('#conn', { hasText: 'live' }).waitFor({ timeout: 10_000 });
    await page.waitForFunction(() => (window as unknown as { meshGraph?: unknown }).meshGraph !== undefined, undefined, { timeout: 10_000 });

    // the graph: 2 regions, 3 clusters, 2 gateways and the echo service, all drawn
    const m = await model(page);
    const ids = (kind: string) => m.nodes.filter((n) => n.kind === kind).map((n) => n.id).sort();
    assert.deepEqual(ids('region'), ['region/us-east', 'region/us-west']);
    assert.deepEqual(ids('cluster'), ['cluster/east-1', 'cluster/east-2', 'cluster/west-1']);
    assert.deepEqual(ids('gateway'), ['gateway/net-east', 'gateway/net-west']);
    assert.deepEqual(m.nodes.filter((n) => n.service === 'demo/echo').map((n) => n.id).sort(), ['service/east-1/demo/echo', 'service/east-2/demo/echo', 'service/west-1/demo/echo']);
    const onCanvas = await drawn(page);
    for (const id of [...ids('region'), ...ids('cluster'), ...ids('gateway'), 'service/east-1/demo/echo', 'service/west-1/demo/echo']) assert.ok(onCanvas.includes(id), `${id} is drawn inside the graph's canvas`);
    for (const c of ['cluster/east-1', 'cluster/east-2', 'cluster/west-1']) assert.equal(await nodeState(page, c), 'connected');

    // the demo clients' traffic: an edge from east-1's sleep to echo, with a rate
    const local = edgeRow(page, 'workload/east-1/sleep->service/east-1/demo/echo');
    await local.waitFor({ timeout: 20_000 });
    assert.ok(Number(await local.locator('.rps').innerText()) > 0, 'the edge shows requests/s');
    await page.locator('#graph').hover({ position: { x: 5, y: 5 } });
    await page.screenshot({ path: join(OUT, 'dashboard-steady.png') });

    // dev failover --region us-east: east-1's sleep is served by us-west, through the us-west gateway
    // figures only (no timed assertion): when the sleep sidecar first reports an answer from west-1, when the control
    // plane's graph has the edge, when the page shows it — what the dashboard adds is the difference
    const admin = `http://127.0.0.1:${pg.controlPlane.ports.admin}`;
    const sleepMetrics = `http://${pg.pods.get('east-1/sleep')!.pod.ip}:${SIDECAR_METRICS}/stats/prometheus`;
    const firstSeen = async (check: () => Promise<boolean>): Promise<number> => {
      for (const until = Date.now() + 30_000; Date.now() < until;) { if (await check().catch(() => false)) return Date.now(); await new Promise((r) => setTimeout(r, 100)); }
      return NaN;
    };
    const t0 = Date.now();
    await pg.failRegion('us-east');
    const failedAt = Date.now();
    const sidecarSaw = firstSeen(async () => /destination_cluster="west-1"/.test((await (await fetch(sleepMetrics)).text()).split('\n').filter((l) => l.startsWith('istio_requests_total{') && l.includes('reporter="source"')).join('\n')));
    const planeSaw = firstSeen(async () => ((await (await fetch(admin + '/debug/graph')).json()) as Model).edges.some((e) => e.id === 'workload/east-1/sleep->gateway/net-west'));
    await edgeRow(page, 'workload/east-1/sleep->gateway/net-west').waitFor({ timeout: 20_000 });
    const edgeMs = Date.now() - failedAt;
    const [sidecarAt, planeAt] = await Promise.all([sidecarSaw, planeSaw]);
    await edgeRow(page, 'gateway/net-west->service/west-1/demo/echo').waitFor({ timeout: 5000 });
    await page.locator('#edges-table li[data-node="cluster/east-1"][data-state="unreachable"]').waitFor({ timeout: 20_000 });
    const unreachableMs = Date.now() - failedAt;
    for (const id of ['cluster/east-1', 'cluster/east-2', 'gateway/net-east']) assert.equal(await nodeState(page, id), 'unreachable', `${id} shows unreachable`);
    assert.equal((await model(page)).nodes.find((n) => n.id === 'region/us-east')?.state, 'failover');
    await page.locator('#failover-banner', { hasText: 'us-east down' }).waitFor({ timeout: 5000 });
    // the old local edge goes once the window has no more of its requests
    await edgeRow(page, 'workload/east-1/sleep->service/east-1/demo/echo').waitFor({ state: 'detached', timeout: 15_000 });
    // side panel with the edge's sparkline (deep link)
    await page.evaluate(() => { location.hash = '#edge=workload/east-1/sleep->gateway/net-west'; });
    await page.locator('#side svg.spark').waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(OUT, 'dashboard-failover.png') });
    console.log(`# failover: east-1 sleep's sidecar first reports an answer from west-1 after ${sidecarAt - failedAt} ms; the control plane's graph has the edge through gateway/net-west after ${planeAt - failedAt} ms; the page shows it after ${edgeMs} ms; us-east shown unreachable after ${unreachableMs} ms (failRegion took ${failedAt - t0} ms)`);

    // dev restore --region us-east: local again
    await pg.restoreRegion('us-east');
    const restoredAt = Date.now();
    await page.locator('#edges-table li[data-node="cluster/east-1"][data-state="connected"]').waitFor({ timeout: 30_000 });
    await edgeRow(page, 'workload/east-1/sleep->service/east-1/demo/echo').waitFor({ timeout: 30_000 });
    await edgeRow(page, 'workload/east-1/sleep->gateway/net-west').waitFor({ state: 'detached', timeout: 30_000 });
    assert.equal(await nodeState(page, 'gateway/net-east'), 'connected');
    console.log(`# restore shown: local edge back after ${Date.now() - restoredAt} ms`);
  } finally {
    await browser.close();
    await pg.stop();
    rmSync(profile, { recursive: true, force: true });
  }
});
