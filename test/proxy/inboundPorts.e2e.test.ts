// A workload with two service ports: its sidecar forwards each to the port the workload listens on for it, as pilot
// knows it from the EndpointSlice (EDS metadata meshfed.app_port) — without --app-ports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { emptySnapshot, type MeshService } from '../../src/mesh/types.ts';
import { startSidecar, type RunningSidecar } from '../../src/proxy/runSidecar.ts';
import { startMeshControl, callVia, until, NS } from './fixtures/mesh.ts';

const A_IP = '127.87.0.1';
const B_IP = '127.87.0.2';

async function portServer(name: string): Promise<Server> {
  const s = createServer((_req, res) => res.end(name));
  await new Promise<void>((r) => s.listen(0, B_IP, r));
  return s;
}

test('inbound: each service port goes to the workload port pilot names for it (two ports, no --app-ports)', async () => {
  const mc = await startMeshControl(['c1'], {});
  const web = await portServer('web');
  const admin = await portServer('admin');
  const sidecars: RunningSidecar[] = [];
  const start = async (ip: string, sa: string, appPort: number): Promise<RunningSidecar> => {
    const tokenFile = join(mc.dir, `token-${sa}`);
    writeFileSync(tokenFile, `tok:${NS}:${sa}\n`);
    const s = await startSidecar({
      xds: mc.xds, ca: mc.ca, caCertFile: mc.caCertFile, tokenFile, clusterId: 'c1', network: 'n1', region: 'r1',
      appPort, appHost: ip, namespace: NS, serviceAccount: sa, service: `${sa}.${NS}.svc.cluster.local`, trustDomain: 'cluster.local',
      outbound: { host: ip, port: 0 }, inbound: { host: ip, port: 0 }, metrics: { host: ip, port: 0 },
    });
    sidecars.push(s);
    return s;
  };
  try {
    // b's sidecar knows only the web port as its default (--app-port); admin is on another port
    const b = await start(B_IP, 'b', (web.address() as AddressInfo).port);
    const a = await start(A_IP, 'a', 1);
    const host = `b.${NS}.svc.cluster.local`;
    const svc: MeshService = {
      namespace: NS, name: 'b', hostname: host, clusters: ['c1'], conflicts: [],
      ports: [{ name: 'http', port: 80, protocol: 'TCP', appProtocol: 'http' }, { name: 'http-admin', port: 9090, protocol: 'TCP', appProtocol: 'http' }],
      endpoints: [{
        cluster: 'c1', network: 'n1', locality: { region: 'r1', zone: 'r1-a', subZone: '' }, address: B_IP,
        ports: { http: (web.address() as AddressInfo).port, 'http-admin': (admin.address() as AddressInfo).port },
        ready: true, tlsMode: 'istio', inboundPort: b.inbound, serviceAccount: 'b', podName: 'b-1', labels: {},
      }],
    };
    mc.pilot.setSnapshot(emptySnapshot({ version: 1, builtAt: new Date().toISOString(), services: new Map([[`${NS}/b`, svc]]) }));
    const web80 = await until('b:80 answered', async () => {
      const r = await callVia(A_IP, a.outbound, `http://${host}:80/`).catch(() => undefined);
      return r?.status === 200 ? r.body : undefined;
    });
    assert.equal(web80, 'web');
    // the admin port reaches the admin server once b's sidecar has its EDS (before that, its --app-port)
    const admin9090 = await until('b:9090 answered by admin', async () => {
      const r = await callVia(A_IP, a.outbound, `http://${host}:9090/`).catch(() => undefined);
      return r?.body === 'admin' ? r.body : undefined;
    });
    assert.equal(admin9090, 'admin');
    assert.equal((await callVia(A_IP, a.outbound, `http://${host}:80/`)).body, 'web', 'port 80 still goes to web');
  } finally {
    for (const s of sidecars) await s.stop();
    web.close();
    admin.close();
    await mc.stop();
  }
});
