import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packAny, TYPE_URL, unpackAny } from '../../src/xds/protos.ts';
import { adsService } from '../../src/xds/adsService.ts';

test('an Envoy Cluster survives packing into Any and back', () => {
  const any = packAny(TYPE_URL.cluster, { name: 'outbound|8080||echo.demo.svc.cluster.local', type: 'EDS', eds_cluster_config: { eds_config: { ads: {} } } });
  const back = unpackAny<{ name: string; type: string }>(any);
  assert.equal(back.name, 'outbound|8080||echo.demo.svc.cluster.local');
  assert.equal(back.type, 'EDS');
});

test('a malformed resource is refused with the field named', () => {
  assert.throws(() => packAny(TYPE_URL.cluster, { name: 'x', eds_cluster_config: 'not an object' }), /eds_cluster_config/);
});

test('the ADS service definition has StreamAggregatedResources', () => {
  assert.ok(adsService().service.StreamAggregatedResources);
});
