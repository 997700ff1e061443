import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptySnapshot, type MeshService } from '../../src/mesh/types.ts';
import { Pilot } from '../../src/pilot/server.ts';
import { meshfed } from '../helpers/meshfed.ts';

test('meshfed proxy-config prints what a node receives, with locality priorities relative to it', async () => {
  const svc: MeshService = {
    namespace: 'demo', name: 'echo', hostname: 'echo.demo.svc.cluster.local', ports: [{ name: 'grpc', port: 50051, protocol: 'TCP' }], clusters: ['c1'], conflicts: [],
    endpoints: [
      { cluster: 'c1', network: 'n1', locality: { region: 'r1', zone: 'z1', subZone: '' }, address: '10.0.0.1', ports: { grpc: 5000 }, ready: true, tlsMode: 'disabled', labels: {} },
      { cluster: 'c2', network: 'n1', locality: { region: 'r2', zone: 'z1', subZone: '' }, address: '10.0.0.2', ports: { grpc: 5000 }, ready: true, tlsMode: 'disabled', labels: {} },
    ],
  };
  const pilot = new Pilot({ port: 0, host: '127.0.0.1', debounceMs: 1 });
  pilot.setSnapshot(emptySnapshot({ services: new Map([['demo/echo', svc]]) }));
  await pilot.start();
  try {
    const r = await meshfed(['proxy-config', '--xds', `127.0.0.1:${pilot.port}`, '--node-id', 'cli', '--network', 'n1', '--region', 'r2', '--zone', 'z1', '--service', 'echo.demo:50051', '--timeout', '30000']);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout) as { listeners: { name: string }[]; clusters: { name: string }[]; endpoints: { endpoints: { priority: number; lb_endpoints: { endpoint: { address: { socket_address: { address: string } } } }[] }[] }[] };
    assert.equal(d.listeners[0]!.name, 'echo.demo:50051');
    assert.equal(d.clusters[0]!.name, 'outbound|50051||echo.demo.svc.cluster.local');
    const byPrio = d.endpoints[0]!.endpoints.map((l) => [l.priority, l.lb_endpoints[0]!.endpoint.address.socket_address.address]);
    assert.deepEqual(byPrio, [[0, '10.0.0.2'], [1, '10.0.0.1']]);
    const bad = await meshfed(['proxy-config', '--xds', 'nope', '--node-id', 'x']);
    assert.equal(bad.code, 2);
  } finally {
    await pilot.stop();
  }
});
