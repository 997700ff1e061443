// The dashboard of a running playground as users run it — `meshfed dev up` (its own process: stand-ins, control
// plane, gateways, meshed demo with traffic) — in headless Debian Chromium: the graph shows every region, cluster,
// gateway and the echo service; traffic appears as edges with rates; within 3 s of `meshfed dev failover --region
// us-east` returning, east-1's sleep traffic goes through the us-west gateway and us-east shows unreachable, without
// a reload; `meshfed dev restore` brings it back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { parseTopology } from '../../src/mesh/topology.ts';
import { allDemoPods, SIDECAR_METRICS } from '../../src/playground/demo.ts';
import { meshfed } from '../helpers/meshfed.ts';
import { startDevUp } from '../playground/fixtures/devUp.ts';

const CHROMIUM = '/usr/bin/chromium';
const OUT = join(process.cwd(), 'test-output');
const TOPOLOGY = fileURLToPath(new URL('./playground-topology.yaml', import.meta.url));
const topology = parseTopology(readFileSync(TOPOLOGY, 'utf8'));
/** the page must show a failover this soon after `dev failover` returns (issue 21) */
const SHOWN_WITHIN_MS = 3000;

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

test('dashboard graph of `meshfed dev up`: regions, clusters, gateways, echo; traffic edges with rates; within 3 s of `dev failover`, through the other gateway with us-east unreachable; back after `dev restore` — live', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} missing: apt-get install -y chromium`, timeout: 300_000 }, async () => {
  const up = await startDevUp('meshfed-dash-', { topology: TOPOLOGY });
  const admin = up.adminUrl();
  const profile = mkdtempSync(join(tmpdir(), 'meshfed-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1280, height: 900 }, timeout: 30_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  }).catch(async (e: unknown) => { await up.stop(); throw e; });
  mkdirSync(OUT, { recursive: true });
  try {
    const page = await browser.newPage();
    await page.goto(`${admin}/`, { timeout: 15_000 });
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
    // once the window holds only counted requests (a proxy's first scrape is its baseline), the rate is the demo's: 1 call/s
    await page.waitForFunction(() => {
      const r = Number(document.querySelector('#edges-table tr[data-edge="workload/east-1/sleep->service/east-1/demo/echo"] .rps')?.textContent);
      return r >= 0.6 && r <= 1.5;
    }, undefined, { timeout: 15_000 });
    await page.locator('#graph').hover({ position: { x: 5, y: 5 } });
    await page.screenshot({ path: join(OUT, 'dashboard-steady.png') });

    // meshfed dev failover --region us-east: east-1's sleep is served by us-west, through the us-west gateway, and the
    // page says so within 3 s of the command's return. Figures on the way (not asserted): when the sleep sidecar
    // first reports an answer from west-1 and when the control plane has the edge and the states
    const sleepPod = allDemoPods(topology).find((p) => p.cluster === 'east-1' && p.app === 'sleep')!;
    const sleepMetrics = `http://${sleepPod.ip}:${SIDECAR_METRICS}/stats/prometheus`;
    const westAnswers = async (): Promise<number> => (await (await fetch(sleepMetrics)).text()).split('\n')
      .filter((l) => l.startsWith('istio_requests_total{') && l.includes('reporter="source"') && l.includes('destination_cluster="west-1"'))
      .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    const firstSeen = async (check: () => Promise<boolean>): Promise<number> => {
      for (const until = Date.now() + 30_000; Date.now() < until;) { if (await check().catch(() => false)) return Date.now(); await new Promise((r) => setTimeout(r, 50)); }
      return NaN;
    };
    const shownAt = (wait: Promise<unknown>): Promise<number> => wait.then(() => Date.now());
    const westBefore = await westAnswers();
    const t0 = Date.now();
    const down = await meshfed(['dev', 'failover', '--region', 'us-east', ...up.stateArgs]);
    const returned = Date.now();
    assert.equal(down.code, 0, down.stderr);
    const sidecarSaw = firstSeen(async () => (await westAnswers()) > westBefore);
    let collector: unknown;
    const planeSaw = firstSeen(async () => {
      const g = (await (await fetch(admin + '/debug/graph')).json()) as Model & { metrics: unknown };
      collector = g.metrics;
      return g.edges.some((e) => e.id === 'workload/east-1/sleep->gateway/net-west');
    });
    const [edgeAt, unreachableAt] = await Promise.all([
      shownAt(edgeRow(page, 'workload/east-1/sleep->gateway/net-west').waitFor({ timeout: 20_000 })),
      shownAt(Promise.all(['cluster/east-1', 'cluster/east-2', 'gateway/net-east'].map((id) => page.locator(`#edges-table li[data-node="${id}"][data-state="unreachable"]`).waitFor({ timeout: 20_000 })))),
    ]);
    const [sidecarAt, planeAt] = await Promise.all([sidecarSaw, planeSaw]);
    console.log(`# dev failover took ${returned - t0} ms (${down.stdout.match(/in \d+ ms/)?.[0] ?? '?'} in the playground); after it returned: east-1 sleep's sidecar had an answer from west-1 by ${sidecarAt - returned} ms, the control plane's graph the edge through gateway/net-west by ${planeAt - returned} ms; the page showed that edge after ${edgeAt - returned} ms and us-east unreachable after ${unreachableAt - returned} ms; the collector then: ${JSON.stringify(collector)}`);
    assert.ok(edgeAt - returned <= SHOWN_WITHIN_MS, `the edge from east-1's sleep through gateway/net-west showed ${edgeAt - returned} ms after dev failover returned (bound ${SHOWN_WITHIN_MS} ms)`);
    assert.ok(unreachableAt - returned <= SHOWN_WITHIN_MS, `us-east showed unreachable ${unreachableAt - returned} ms after dev failover returned (bound ${SHOWN_WITHIN_MS} ms)`);
    await edgeRow(page, 'gateway/net-west->service/west-1/demo/echo').waitFor({ timeout: 5000 });
    assert.equal((await model(page)).nodes.find((n) => n.id === 'region/us-east')?.state, 'failover');
    await page.locator('#failover-banner', { hasText: 'us-east down' }).waitFor({ timeout: 5000 });
    // the old local edge goes once the window has no more of its requests
    await edgeRow(page, 'workload/east-1/sleep->service/east-1/demo/echo').waitFor({ state: 'detached', timeout: 15_000 });
    // side panel with the edge's sparkline (deep link)
    await page.evaluate(() => { location.hash = '#edge=workload/east-1/sleep->gateway/net-west'; });
    await page.locator('#side svg.spark').waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(OUT, 'dashboard-failover.png') });

    // meshfed dev restore --region us-east: local again
    const back = await meshfed(['dev', 'restore', '--region', 'us-east', ...up.stateArgs]);
    const restoredAt = Date.now();
    assert.equal(back.code, 0, back.stderr);
    await page.locator('#edges-table li[data-node="cluster/east-1"][data-state="connected"]').waitFor({ timeout: 30_000 });
    await edgeRow(page, 'workload/east-1/sleep->service/east-1/demo/echo').waitFor({ timeout: 30_000 });
    await edgeRow(page, 'workload/east-1/sleep->gateway/net-west').waitFor({ state: 'detached', timeout: 30_000 });
    assert.equal(await nodeState(page, 'gateway/net-east'), 'connected');
    console.log(`# restore shown: local edge back, the one through gateway/net-west gone, ${Date.now() - restoredAt} ms after dev restore returned`);
  } finally {
    await browser.close();
    await up.stop();
    rmSync(profile, { recursive: true, force: true });
  }
});
