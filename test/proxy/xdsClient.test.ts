import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XdsClient } from '../../src/xds/adsClient.ts';
import { wireGatewayXds } from '../../src/proxy/gatewayXds.ts';
import type { Endpoint } from '../../src/proxy/routing.ts';
import { TYPE_URL } from '../../src/xds/protos.ts';
import { gatewaySni } from '../../src/mesh/names.ts';
import { createLogger } from '../../src/log.ts';
import { TestAds } from '../helpers/adsServer.ts';
import { freezeProxy } from '../helpers/freezeProxy.ts';
import { Pilot } from '../../src/pilot/server.ts';
import { emptySnapshot } from '../../src/mesh/types.ts';

const sni = gatewaySni('echo.demo.svc.cluster.local', 8080);
const cla = (ip: string) => ({ cluster_name: sni, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: ip, port_value: 15006 } } } }] }] });

async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!cond()) { if (Date.now() > end) throw new Error(`timed out waiting for ${what}`); await new Promise((r) => setTimeout(r, 20)); }
}

test('gateway xDS: wildcard CDS then EDS builds the endpoint table, sends node metadata, ACKs, NACKs bad config, follows updates', async () => {
  const ads = new TestAds();
  const addr = await ads.start();
  ads.set(TYPE_URL.cluster, 'c1', [{ name: sni, type: 'EDS' }]);
  ads.set(TYPE_URL.endpoint, 'e1', [cla('10.1.0.5')]);
  const xds = new XdsClient(addr, { id: 'router~10.0.0.1~gw.istio-system~istio-system.svc.cluster.local', role: 'gateway', clusterId: 'east', network: 'net1', locality: { region: 'eu' } }, createLogger('t'));
  let table = new Map<string, Endpoint[]>();
  wireGatewayXds(xds, (t) => { table = t; });
  const running = xds.start();
  try {
    await until(() => table.get(sni)?.[0]?.address === '10.1.0.5', 'first endpoints');
    const first = ads.requests[0]!;
    assert.equal(first.node?.metadata?.fields?.MESHFED_ROLE?.stringValue, 'gateway');
    assert.equal(first.node?.metadata?.fields?.NETWORK?.stringValue, 'net1');
    await until(() => ads.requests.some((r) => r.type_url === TYPE_URL.endpoint && r.version_info === 'e1'), 'EDS ACK');

    ads.set(TYPE_URL.cluster, 'c2', [{ name: 'not-an-sni', type: 'EDS' }]);
    await until(() => ads.requests.some((r) => r.type_url === TYPE_URL.cluster && !!r.error_detail?.message), 'CDS NACK');
    const nack = ads.requests.find((r) => r.type_url === TYPE_URL.cluster && r.error_detail)!;
    assert.equal(nack.version_info, 'c1', 'NACK keeps the last accepted version');
    assert.match(nack.error_detail!.message, /not-an-sni/);
    assert.equal(table.get(sni)?.[0]?.address, '10.1.0.5', 'rejected config did not replace the table');

    ads.set(TYPE_URL.endpoint, 'e2', [cla('10.1.0.9')]);
    await until(() => table.get(sni)?.[0]?.address === '10.1.0.9', 'endpoint update');
  } finally {
    xds.stop(); ads.stop(); await running;
  }
});

test('xDS client reconnects with backoff after the server goes away', async () => {
  const ads1 = new TestAds();
  const addr = await ads1.start();
  ads1.set(TYPE_URL.cluster, 'v1', [{ name: sni, type: 'EDS' }]);
  const xds = new XdsClient(addr, { id: 'router~x', role: 'gateway', clusterId: 'c', network: 'n', locality: { region: 'r' } }, createLogger('t'));
  const versions: string[] = [];
  xds.subscribe(TYPE_URL.cluster, [], (_r, v) => { versions.push(v); });
  const running = xds.start();
  const ads2 = new TestAds();
  try {
    await until(() => versions.includes('v1'), 'v1');
    ads1.stop();
    const port = Number(addr.split(':')[1]);
    await new Promise((r) => setTimeout(r, 100));
    // restart on the same port
    await ads2.start(port);
    ads2.set(TYPE_URL.cluster, 'v2', [{ name: sni, type: 'EDS' }]);
    await until(() => versions.includes('v2'), 'v2 after reconnect');
  } finally {
    xds.stop(); ads2.stop(); await running;
  }
});

test('xDS client given two replicas moves to the other when its stream breaks, every time (the backoff restarts after a stream that was up)', { timeout: 60_000 }, async () => {
  const replicas = [new TestAds(), new TestAds()];
  const addrs = await Promise.all(replicas.map((r) => r.start()));
  for (const r of replicas) r.set(TYPE_URL.cluster, 'v1', [{ name: sni, type: 'EDS' }]);
  const xds = new XdsClient(addrs.join(','), { id: 'router~x', role: 'gateway', clusterId: 'c', network: 'n', locality: { region: 'r' } }, createLogger('t'));
  const versions: string[] = [];
  xds.subscribe(TYPE_URL.cluster, [], (_r, v) => { versions.push(v); });
  const running = xds.start();
  try {
    await until(() => versions.includes('v1') && xds.connectedTo !== '', 'v1');
    // six times: the replica it is on dies, it comes back on the other (the old client's 200 ms · 2^n backoff would
    // have waited 6.4 s or more by the sixth); the dead one restarts on its port
    for (let k = 0; k < 6; k++) {
      const i = addrs.indexOf(xds.connectedTo);
      assert.ok(i >= 0, `connected to ${xds.connectedTo}`);
      const other = replicas[1 - i]!;
      const before = other.requests.length;
      const t0 = performance.now();
      replicas[i]!.stop();
      await until(() => xds.connectedTo === addrs[1 - i] && other.requests.length > before, `move ${k + 1} to ${addrs[1 - i]}`);
      const moved = other.requests.slice(before).find((r) => r.type_url === TYPE_URL.cluster)!;
      assert.equal(moved.version_info, 'v1', 'resumes with the version it holds');
      assert.ok(performance.now() - t0 < 2000, `move ${k + 1} took ${Math.round(performance.now() - t0)} ms`);
      replicas[i] = new TestAds();
      await replicas[i]!.start(Number(addrs[i]!.split(':')[1]));
      replicas[i]!.set(TYPE_URL.cluster, 'v1', [{ name: sni, type: 'EDS' }]);
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const r of replicas) r.set(TYPE_URL.cluster, 'v2', [{ name: sni, type: 'EDS' }]);
    await until(() => versions.includes('v2'), 'v2 after the moves');
  } finally {
    xds.stop(); for (const r of replicas) r.stop(); await running;
  }
});

test('xDS client leaves a replica that hangs without closing its connection (keepalive) for the other one', { timeout: 30_000 }, async () => {
  const replicas = [new TestAds(), new TestAds()];
  const ports = (await Promise.all(replicas.map((r) => r.start()))).map((a) => Number(a.split(':')[1]));
  for (const r of replicas) r.set(TYPE_URL.cluster, 'v1', [{ name: sni, type: 'EDS' }]);
  // each replica behind a proxy that can freeze, as a SIGSTOPped process: the kernel keeps the connection, nothing answers
  const frozen = await Promise.all(ports.map((p) => freezeProxy(p)));
  const addrs = frozen.map((f) => `127.0.0.1:${f.port}`);
  const xds = new XdsClient(addrs.join(','), { id: 'router~x', role: 'gateway', clusterId: 'c', network: 'n', locality: { region: 'r' } }, createLogger('t'), { keepaliveMs: 300, keepaliveTimeoutMs: 300 });
  const versions: string[] = [];
  xds.subscribe(TYPE_URL.cluster, [], (_r, v) => { versions.push(v); });
  const running = xds.start();
  try {
    await until(() => versions.includes('v1') && xds.connectedTo !== '', 'v1');
    const i = addrs.indexOf(xds.connectedTo);
    frozen[i]!.freeze();
    await until(() => xds.connectedTo === addrs[1 - i], 'the move to the other replica');
    replicas[1 - i]!.set(TYPE_URL.cluster, 'v2', [{ name: sni, type: 'EDS' }]);
    await until(() => versions.includes('v2'), 'v2 from the other replica');
  } finally {
    xds.stop(); for (const f of frozen) { f.thaw(); await f.close(); } for (const r of replicas) r.stop(); await running;
  }
});

test('a replica that shuts down gracefully (pilot ends its streams) finishes its shutdown, and the client moves to the other', { timeout: 30_000 }, async () => {
  const pilots = [new Pilot({ port: 0, host: '127.0.0.1', debounceMs: 1 }), new Pilot({ port: 0, host: '127.0.0.1', debounceMs: 1 })];
  const addrs = await Promise.all(pilots.map(async (p) => `127.0.0.1:${await p.start()}`));
  for (const p of pilots) p.setSnapshot(emptySnapshot({ version: 1, builtAt: new Date().toISOString() }));
  const xds = new XdsClient(addrs.join(','), { id: 'router~x', role: 'gateway', clusterId: 'c', network: 'n', locality: { region: 'r' } }, createLogger('t'));
  let got = 0;
  xds.subscribe(TYPE_URL.cluster, [], () => { got++; });
  const running = xds.start();
  try {
    await until(() => got > 0 && xds.connectedTo !== '', 'the first CDS response');
    const i = addrs.indexOf(xds.connectedTo);
    // the client ends its side when the server ends the call, so the server's graceful shutdown does not wait forever
    await Promise.race([pilots[i]!.stop(), new Promise((_r, rej) => setTimeout(() => rej(new Error('pilot.stop() did not finish: the client kept the ended stream open')), 5000))]);
    await until(() => xds.connectedTo === addrs[1 - i], 'the move to the other replica');
  } finally {
    xds.stop(); for (const p of pilots) await p.stop(); await running;
  }
});
