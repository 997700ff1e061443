// Egress control end to end: Sidecar outboundTrafficPolicy and ServiceEntry applied with kubectl to an API stand-in,
// read by the SecurityWatcher, served by the real pilot as each sidecar's virtualOutbound listener, enforced by a real
// sidecar's outbound: ALLOW_ANY passes an external address through, REGISTRY_ONLY refuses it (502) until a
// ServiceEntry for it is applied, mesh services are unaffected, and a bad ServiceEntry is reported by field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTopologyCluster } from '../../src/playground/clusters.ts';
import { writeKubeconfig } from '../../src/devcluster/kubeconfigFile.ts';
import { adminKubeConfig } from '../../src/devcluster/clientConfig.ts';
import { SecurityWatcher } from '../../src/security/watcher.ts';
import { compileSecurity } from '../../src/security/pilotResources.ts';
import { startMeshControl, scrape, metricSum, until, SVC_PORT, type MeshedEcho } from '../proxy/fixtures/mesh.ts';
import { run } from '../helpers/kubectl.ts';
import { getThroughTunnel, requestVia, type Answer } from '../helpers/viaSidecar.ts';

const KUBECTL = '/usr/bin/kubectl';

const get = (from: MeshedEcho, url: string): Promise<Answer> => requestVia(from, 'GET', url);
const connect = (from: MeshedEcho, target: string): Promise<string> => getThroughTunnel(from, target, '/tcp', 'x');

test('egress: ALLOW_ANY passes through, REGISTRY_ONLY refuses an external address until a ServiceEntry allows it', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'egress-e2e-'));
  const server = await startTopologyCluster({ name: 'c1', region: 'r1', zones: ['z1'], network: 'n1', podCIDR: '127.85.0.0/16', serviceCIDR: '10.85.0.0/16' });
  const kubeconfig = join(dir, 'kubeconfig');
  writeKubeconfig(kubeconfig, [server]);
  // "the internet": an HTTP server on an address no mesh service has
  const external = http.createServer((req, res) => res.end(`external saw ${req.headers.host} ${req.url}`));
  await new Promise<void>((r) => external.listen(0, '127.0.9.9', r));
  const extPort = (external.address() as AddressInfo).port;
  const mc = await startMeshControl(['c1'], {});
  const watcher = new SecurityWatcher({ kubeConfig: adminKubeConfig(server), onSecurity: (set, _r, egress) => mc.pilot.setSecurity(compileSecurity(set, undefined, egress)) });
  const apply = async (o: unknown): Promise<void> => {
    const r = await run(KUBECTL, ['--kubeconfig', kubeconfig, 'apply', '-f', '-'], JSON.stringify(o));
    assert.equal(r.code, 0, r.stderr);
  };
  try {
    await watcher.start();
    for (const ns of ['demo', 'meshfed-system']) await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const echo = await mc.startMeshedEcho({ name: 'echo-0', ip: '127.0.1.1', cluster: 'c1', network: 'n1', region: 'r1', serviceAccount: 'echo' });
    const sleep = await mc.startMeshedEcho({ name: 'sleep-0', ip: '127.0.1.2', cluster: 'c1', network: 'n1', region: 'r1', serviceAccount: 'sleep' });
    mc.publish();
    const EXT = `http://127.0.9.9:${extPort}/out`;
    await until('mesh call served', async () => ((await get(sleep, `http://echo:${SVC_PORT}/`)).status === 200 ? true : undefined));

    // no Sidecar anywhere: ALLOW_ANY (Istio's default) — the external address is passed through
    await until('passthrough', async () => ((await get(sleep, EXT)).status === 200 ? true : undefined));
    assert.match((await get(sleep, EXT)).body, /^external saw 127\.0\.9\.9:\d+ \/out$/);

    // mesh-wide REGISTRY_ONLY (a Sidecar in the root namespace): refused with 502 and a clear answer; mesh calls work
    await apply({ apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: { name: 'default', namespace: 'meshfed-system' }, spec: { outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } } });
    await until('REGISTRY_ONLY refuses', async () => ((await get(sleep, EXT)).status === 502 ? true : undefined));
    assert.match((await get(sleep, EXT)).body, /127\.0\.9\.9:\d+ is neither a mesh service nor a ServiceEntry, and outboundTrafficPolicy is REGISTRY_ONLY/);
    assert.match(await connect(sleep, `127.0.9.9:${extPort}`), /^HTTP\/1\.1 502/);
    assert.equal((await get(sleep, `http://echo:${SVC_PORT}/`)).status, 200, 'mesh services are in the registry');
    assert.ok(metricSum(await scrape(sleep.w.ip, sleep.sidecar.metrics), 'meshfed_sidecar_egress_total', /decision="refused"/) >= 2);

    // a ServiceEntry for a name, resolved STATIC to the external address: allowed by name, over HTTP and CONNECT
    const se = (spec: Record<string, unknown>) => ({ apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'external-api', namespace: 'demo' }, spec });
    await apply(se({ hosts: ['api.external.example'], ports: [{ number: 80, name: 'http', protocol: 'HTTP', targetPort: extPort }], location: 'MESH_EXTERNAL', resolution: 'STATIC', endpoints: [{ address: '127.0.9.9' }] }));
    await until('ServiceEntry allows', async () => ((await get(sleep, 'http://api.external.example/v1')).status === 200 ? true : undefined));
    assert.equal((await get(sleep, 'http://api.external.example/v1')).body, 'external saw api.external.example /v1');
    assert.match(await connect(sleep, 'api.external.example:80'), /^HTTP\/1\.1 200 Connection Established\r\n\r\nHTTP\/1\.1 200 OK.*external saw x \/tcp/s);
    assert.equal((await get(sleep, EXT)).status, 502, 'the bare address is still not in the registry');

    // a bad ServiceEntry is reported by field; the good one keeps working
    await apply({ ...se({ hosts: ['other.external.example'], ports: [{ number: 80, name: 'http' }], resolution: 'DYNAMIC' }), metadata: { name: 'broken', namespace: 'demo' } });
    await until('status names the field', async () => {
      const r = await run(KUBECTL, ['--kubeconfig', kubeconfig, '-n', 'demo', 'get', 'serviceentry', 'broken', '-o', 'jsonpath={.status.conditions[0].message}']);
      return /spec\.resolution: "DYNAMIC" must be NONE, STATIC, DNS or DNS_ROUND_ROBIN/.test(r.stdout) ? true : undefined;
    });
    assert.equal((await get(sleep, 'http://api.external.example/v1')).status, 200);

    // the namespace's own Sidecar overrides the mesh-wide policy
    await apply({ apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: { name: 'default', namespace: 'demo' }, spec: { outboundTrafficPolicy: { mode: 'ALLOW_ANY' } } });
    await until('namespace ALLOW_ANY', async () => ((await get(sleep, EXT)).status === 200 ? true : undefined));
    void echo;
  } finally {
    await watcher.stop();
    await mc.stop();
    external.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
