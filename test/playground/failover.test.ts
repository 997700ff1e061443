// The headline promise, end to end on the in-process playground: real stand-in clusters registered with the
// federation, the control plane (federation + CA + pilot), one gateway per network, meshed echo pods.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTopology } from '../../src/mesh/topology.ts';
import { startMeshPlayground } from '../../src/playground/mesh.ts';
import { startLoad } from '../../src/playground/load.ts';
import { failoverFigures } from '../../src/playground/failoverStats.ts';

const topology = parseTopology(readFileSync(new URL('./topology.yaml', import.meta.url), 'utf8'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('region failover: us-east echo goes down → east-1 is served by us-west through the gateways, no request fails; restore → local again', { timeout: 240_000 }, async () => {
  const pg = await startMeshPlayground({ topology, stateDir: mkdtempSync(join(tmpdir(), 'meshfed-failover-')), ports: { xds: 0, secure: 0, admin: 0 } });
  try {
    // before: east-1's client is answered in its own region, with a mesh identity the echo pod saw
    const first = await pg.call('east-1');
    assert.equal(first.ok, true, first.error);
    assert.equal(first.reply!.region, 'us-east');
    assert.equal(first.reply!.caller, 'spiffe://cluster.local/ns/demo/sa/sleep');
    // west-1 reaches echo too (its own region)
    assert.equal((await pg.call('west-1')).reply?.region, 'us-west');

    // paced (≤ 200 requests/s): with pooled upstream connections 3,000 unpaced requests were spent before the restore
    const load = startLoad(() => pg.call('east-1'), { count: 3000, maxMs: 60_000, concurrency: 4, pauseMs: 20 });
    await sleep(1500);
    const failedAt = performance.now();
    await pg.stopWorkloads('us-east');
    // wait until east-1 has been served remotely for a while (bounded)
    const until = Date.now() + 20_000;
    while (Date.now() < until && load.records.filter((r) => r.doneAt > failedAt && r.region === 'us-west').length < 100) await sleep(100);
    const restoredAt = performance.now();
    await pg.startWorkloads('us-east');
    const back = Date.now() + 60_000;
    while (Date.now() < back && !load.records.some((r) => r.sentAt > restoredAt && r.region === 'us-east')) await sleep(100);
    load.stop();
    const records = await load.done;

    const during = records.filter((r) => r.sentAt < restoredAt);
    const f = failoverFigures(during, failedAt, 'us-east');
    const failed = records.filter((r) => !r.ok).length;
    console.log(JSON.stringify({ requests: records.length, failed, firstRemoteMs: f.firstRemoteMs, steadyMs: f.steadyMs, byRegion: f.byRegion }));
    assert.equal(failed, 0, `${failed} of ${records.length} requests failed`);
    assert.ok((f.byRegion['us-west'] ?? 0) >= 100, `east-1 was not served by us-west after the failure: ${JSON.stringify(f.byRegion)}`);
    assert.ok(f.firstRemoteMs !== undefined);
    assert.ok(records.some((r) => r.sentAt > restoredAt && r.region === 'us-east'), 'traffic did not return to us-east after the restore');
  } finally {
    await pg.stop();
  }
});
