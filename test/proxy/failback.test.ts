// Fail back after an outage: the sidecar's local endpoints die while pilot keeps reporting them healthy (their
// region's API servers are down too, so EDS keeps the last-known endpoints). Connect failures eject them and
// traffic goes to the next priority; when they come back, an active probe ends the ejection, so traffic returns
// within seconds instead of after a doubled ejection (5 s, 10 s … up to 60 s). One that fails again right after its
// return is ejected again, without losing a request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { startInbound, type Inbound } from '../../src/proxy/sidecarInbound.ts';
import { Outbound } from '../../src/proxy/sidecarOutbound.ts';
import { newRegistry } from '../../src/observe/metrics.ts';
import { createLogger } from '../../src/log.ts';
import { demoPeers } from '../helpers/demoPeers.ts';

const { ca, idB, certA, certB, HOST, sni } = demoPeers();
const log = createLogger('t');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function app(name: string): Promise<http.Server> {
  const s = http.createServer((_req, res) => res.end(JSON.stringify({ name })));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return s;
}
const inbound = (a: http.Server, port = 0): Promise<Inbound> => startInbound({ host: '127.0.0.1', port, appPort: (a.address() as net.AddressInfo).port, ownId: idB, trustDomain: 'cluster.local', destinationService: HOST, tls: { ...certB, ca: ca.root }, registry: newRegistry(), log });

function get(proxyPort: number): Promise<{ status: number; name?: string }> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, path: `http://${HOST}:8080/`, agent: false }, (res) => {
      let body = ''; res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ...(res.statusCode === 200 ? { name: (JSON.parse(body) as { name: string }).name } : {}) }));
    });
    req.on('error', () => resolve({ status: 0 }));
    req.end();
  });
}

interface Sample { at: number; status: number; name?: string }

/** Paced requests (one every 20 ms, 2 in flight) until stopped or 2,000 (bounded). */
function steadyLoad(port: number): { samples: Sample[]; stop(): Promise<void> } {
  const samples: Sample[] = [];
  let stopped = false;
  const worker = async (): Promise<void> => {
    while (!stopped && samples.length < 2000) {
      const r = await get(port);
      samples.push({ at: Date.now(), ...r });
      await sleep(20);
    }
  };
  const running = Promise.all([worker(), worker()]);
  return { samples, stop: async () => { stopped = true; await running; } };
}

async function until(what: string, f: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) if (f()) return;
  throw new Error(`not within ${ms} ms: ${what}`);
}

test('a restored local endpoint gets its traffic back within 5 s (not after its doubled ejection); one that fails again is ejected again; no request lost', { timeout: 90_000 }, async () => {
  const localApp = await app('local');
  const remoteApp = await app('remote');
  let local = await inbound(localApp);
  const localPort = local.port;
  const remote = await inbound(remoteApp);
  const registry = newRegistry();
  const ejections = async (): Promise<number> => (await registry.getSingleMetric('meshfed_sidecar_outlier_ejections_total')!.get()).values.reduce((n, v) => n + v.value, 0);
  const out = new Outbound({ host: '127.0.0.1', port: 0, namespace: 'demo', sourceWorkload: 'a', trustDomain: 'cluster.local', tls: { ...certA, ca: ca.root }, registry, log });
  // what pilot sends (and keeps sending through the outage): the local endpoint at priority 0, the remote one at 1
  out.setEndpoints(new Map([[sni, [{ address: '127.0.0.1', port: localPort, healthy: true, priority: 0 }, { address: '127.0.0.1', port: remote.port, healthy: true, priority: 1 }]]]));
  const port = await out.listen();
  const load = steadyLoad(port);
  const s = load.samples;
  try {
    await until('served locally', () => s.some((x) => x.name === 'local'), 10_000);

    // 1. the local endpoint dies and stays dead past its first ejection (5 s): the probe request after it fails
    //    again, so it is ejected for 10 s more
    const down = Date.now();
    await local.close();
    await until('served remotely', () => s.some((x) => x.at > down && x.name === 'remote'), 10_000);
    await sleep(6500);
    assert.ok(!s.some((x) => x.at > down + 200 && x.name === 'local'), 'nothing served by the dead endpoint');

    // 2. it comes back at the same address; pilot's EDS does not change (it never stopped reporting it healthy)
    local = await inbound(localApp, localPort);
    const back = Date.now();
    await until('traffic back on the restored local endpoint', () => s.some((x) => x.at > back && x.name === 'local'), 30_000);
    const failbackMs = s.find((x) => x.at > back && x.name === 'local')!.at - back;
    assert.ok(failbackMs < 5000, `traffic came back ${failbackMs} ms after the restore (its ejection ran ~10 s more)`);
    await until('settled locally', () => s.filter((x) => x.at > back && x.name === 'local').length >= 20, 10_000);

    // 3. it fails again right after its return: ejected again, the requests go to the remote endpoint again
    const ejectedBefore = await ejections();
    const again = Date.now();
    await local.close();
    await until('served remotely again', () => s.filter((x) => x.at > again && x.name === 'remote').length >= 20, 10_000);
    const settled = s.filter((x) => x.at > again).slice(-10);
    assert.ok(settled.every((x) => x.name === 'remote'), `after failing again it is held out: ${JSON.stringify(settled)}`);
    assert.ok(await ejections() > ejectedBefore, 'failing again after its return ejected it again (meshfed_sidecar_outlier_ejections_total)');
    await load.stop();
    const lost = s.filter((x) => x.status !== 200);
    assert.equal(lost.length, 0, `${lost.length} of ${s.length} requests lost: ${JSON.stringify(lost.slice(0, 3))}`);
  } finally {
    await load.stop();
    await out.close(); await local.close().catch(() => {}); await remote.close();
    localApp.close(); remoteApp.close();
  }
});
