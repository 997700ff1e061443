// The endpoint metadata pilot sends reaches the sidecar: translate's ClusterLoadAssignment, served over a real ADS
// stream and decoded by the one ADS client, carries google.protobuf.Value in the one spelling the proxies read
// (`stringValue`). tlsMode decides which endpoints the outbound uses, app_port where the inbound forwards, cluster
// what the outbound reports per endpoint: each would silently fall back to a default if the spelling were wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptySnapshot, type Endpoint, type MeshService } from '../../src/mesh/types.ts';
import type { ProxyNode } from '../../src/pilot/node.ts';
import { translate } from '../../src/pilot/translate.ts';
import { XdsClient } from '../../src/xds/adsClient.ts';
import { TYPE_URL } from '../../src/xds/protos.ts';
import { gatewaySni } from '../../src/mesh/names.ts';
import { inboundAppPorts, wireSidecarXds } from '../../src/proxy/sidecarXds.ts';
import { endpointsFromCla, type Cla } from '../../src/proxy/gatewayXds.ts';
import type { Endpoint as TableEndpoint } from '../../src/proxy/routing.ts';
import { createLogger } from '../../src/log.ts';
import { TestAds } from '../helpers/adsServer.ts';

const HOST = 'echo.demo.svc.cluster.local';
const ep = (address: string, cluster: string, network: string, extra: Partial<Endpoint> = {}): Endpoint =>
  ({ cluster, network, locality: { region: network === 'net1' ? 'r1' : 'r2', zone: 'z1', subZone: '' }, address, ports: { http: 9090 }, ready: true, tlsMode: 'istio', inboundPort: 15006, labels: {}, ...extra });
const svc: MeshService = {
  namespace: 'demo', name: 'echo', hostname: HOST, ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], clusters: ['c1', 'c2'], conflicts: [],
  // this sidecar's own workload (meshed), a workload without a sidecar, and one on another network behind its gateway
  endpoints: [ep('10.0.0.1', 'c1', 'net1'), ep('10.0.0.2', 'c1', 'net1', { tlsMode: 'disabled', inboundPort: undefined }), ep('10.1.0.1', 'c2', 'net2')],
};
const snapshot = emptySnapshot({ services: new Map([['demo/echo', svc]]), gateways: [{ network: 'net2', region: 'r2', cluster: 'c2', address: '192.0.2.2', port: 15443 }] });
const node: ProxyNode = { id: 'sidecar~10.0.0.1~echo-0.demo~demo.svc.cluster.local', role: 'sidecar', cluster: 'c1', network: 'net1', locality: { region: 'r1', zone: 'z1', subZone: '' } };

test('a sidecar reads the tlsMode, app_port and cluster metadata pilot puts on endpoints, through a real ADS stream', async () => {
  const cds = translate(snapshot, node, TYPE_URL.cluster, [], true).resources;
  const eds = translate(snapshot, node, TYPE_URL.endpoint, [...cds.keys()]).resources;
  assert.equal(eds.size, 1);
  const ads = new TestAds();
  const addr = await ads.start();
  ads.set(TYPE_URL.cluster, '1', [...cds.values()]);
  ads.set(TYPE_URL.endpoint, '1', [...eds.values()]);
  const xds = new XdsClient(addr, { id: node.id, role: 'sidecar', clusterId: 'c1', network: 'net1', locality: { region: 'r1', zone: 'z1' } }, createLogger('t', { level: 'silent' }));
  let table = new Map<string, TableEndpoint[]>();
  let clas: readonly Cla[] = [];
  wireSidecarXds(xds, (t) => { table = t; }, undefined, (c) => { clas = c; });
  const running = xds.start();
  try {
    const sni = gatewaySni(HOST, 8080);
    const end = Date.now() + 5000;
    while (!table.get(sni)?.length) { if (Date.now() > end) throw new Error('no endpoints reached the sidecar'); await new Promise((r) => setTimeout(r, 20)); }
    // tlsMode: the plaintext workload (10.0.0.2:9090) is left out of the mTLS table
    assert.deepEqual(table.get(sni)!.map((e) => `${e.address}:${e.port}`).sort(), ['10.0.0.1:15006', '192.0.2.2:15443']);
    // app_port: the sidecar at 10.0.0.1 forwards echo:8080 to its workload's port 9090
    assert.deepEqual([...inboundAppPorts(clas, '10.0.0.1')], [[`${HOST}:8080`, 9090]]);
    // cluster: each endpoint knows the member cluster it came from
    assert.deepEqual(clas.flatMap(endpointsFromCla).map((e) => `${e.address} ${e.cluster}`).sort(), ['10.0.0.1 c1', '10.0.0.2 c1', '192.0.2.2 c2']);
  } finally {
    xds.stop(); ads.stop(); await running;
  }
});
