import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XdsClient } from '../../src/xds/adsClient.ts';
import { wireSidecarXds } from '../../src/proxy/sidecarXds.ts';
import type { Endpoint } from '../../src/proxy/routing.ts';
import { TYPE_URL } from '../../src/xds/protos.ts';
import { gatewaySni, outboundClusterName } from '../../src/mesh/names.ts';
import { createLogger } from '../../src/log.ts';
import { TestAds } from '../helpers/adsServer.ts';

const HOST = 'b.demo.svc.cluster.local';
const ep = (ip: string, port: number, tlsMode: string) => ({
  endpoint: { address: { socket_address: { address: ip, port_value: port } } },
  metadata: { filter_metadata: { istio: { fields: { tlsMode: { stringValue: tlsMode } } } } },
});

test('sidecar xDS: CDS outbound|port||host + EDS → table keyed by SNI, mTLS endpoints only (local sidecar and remote gateway)', async () => {
  const ads = new TestAds();
  const addr = await ads.start();
  const cluster = outboundClusterName(HOST, 8080);
  ads.set(TYPE_URL.cluster, '1', [{ name: cluster, type: 'EDS' }]);
  ads.set(TYPE_URL.endpoint, '1', [{ cluster_name: cluster, endpoints: [{ lb_endpoints: [ep('10.0.0.7', 15006, 'istio'), ep('10.0.0.8', 8080, 'disabled'), ep('192.0.2.10', 15443, 'istio')] }] }]);
  const xds = new XdsClient(addr, { id: 'sidecar~10.0.0.1~a.demo~demo.svc.cluster.local', role: 'sidecar', clusterId: 'east', network: 'n1', locality: { region: 'eu' } }, createLogger('t'));
  let table = new Map<string, Endpoint[]>();
  wireSidecarXds(xds, (t) => { table = t; });
  const running = xds.start();
  try {
    const end = Date.now() + 5000;
    while (!table.get(gatewaySni(HOST, 8080))?.length) { if (Date.now() > end) throw new Error('no endpoints'); await new Promise((r) => setTimeout(r, 20)); }
    assert.deepEqual(table.get(gatewaySni(HOST, 8080))!.map((e) => `${e.address}:${e.port}`), ['10.0.0.7:15006', '192.0.2.10:15443']);
  } finally {
    xds.stop(); ads.stop(); await running;
  }
});
