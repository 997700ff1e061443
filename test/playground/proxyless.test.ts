// Proxyless gRPC clients (@grpc/grpc-js-xds, a client we did not write) in the playground: the three stand-in
// clusters registered with the control plane, one gateway per network, and a gRPC echo Service with a pod in every
// zone. us-east (net-east) has three zones in two clusters and us-west (net-west) two: behind each gateway sit
// several localities, which once made pilot list the same gateway address twice — and grpc-js-xds rejected the
// whole ClusterLoadAssignment, failing every call. A client in each region calls echo 10 times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import type * as grpc from '@grpc/grpc-js';
import { cidrRange, parseTopology, type TopologyCluster } from '../../src/mesh/topology.ts';
import { adminKubeConfig } from '../../src/devcluster/clientConfig.ts';
import { startMeshPlayground, type MeshPlayground } from '../../src/devcluster/playground/mesh.ts';
import { startEcho } from '../pilot/fixtures/echo.ts';

const topology = parseTopology(readFileSync(new URL('./proxyless-topology.yaml', import.meta.url), 'utf8'));
const CALLER = fileURLToPath(new URL('./fixtures/grpcCaller.ts', import.meta.url));
const NS = 'demo';
const PORT = 50051;
const HOST = `grpc-echo.${NS}.svc.cluster.local`;

interface Line { warmup?: boolean; id?: string; error?: string }

function podIp(c: TopologyCluster, i: number): string {
  const n = cidrRange(c.podCIDR)![0] + 512 + 10 + i; // beside the demo's echo (…1.10+) and sleep (…0.100) pods
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** What an operator and a kubelet would do: a gRPC Service and one ready Pod per zone, in every cluster. */
async function deployGrpcEcho(pg: MeshPlayground): Promise<grpc.Server[]> {
  const servers: grpc.Server[] = [];
  for (const c of topology.clusters) {
    const kc = adminKubeConfig(pg.clusters.get(c.name)!);
    const api = k8s.KubernetesObjectApi.makeApiClient(kc);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const apply = (o: object) => api.patch(o as k8s.KubernetesObject, undefined, undefined, 'proxyless-test', true, k8s.PatchStrategy.ServerSideApply);
    await apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'grpc-echo', namespace: NS }, spec: { selector: { app: 'grpc-echo' }, ports: [{ name: 'grpc', port: PORT, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'grpc' }] } });
    for (const [i, zone] of c.zones.entries()) {
      const ip = podIp(c, i);
      servers.push((await startEcho(ip, `${c.name}/${zone}`, PORT)).server);
      const name = `grpc-echo-${zone}`;
      await apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, labels: { app: 'grpc-echo' } }, spec: { nodeName: `${c.name}-${zone}`, containers: [{ name: 'echo', image: 'grpc-echo', ports: [{ name: 'grpc', containerPort: PORT, protocol: 'TCP' }] }] } });
      const now = new Date().toISOString();
      await core.patchNamespacedPodStatus(
        { name, namespace: NS, body: { status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], hostIP: ip, startTime: now, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
    }
  }
  return servers;
}

/** Runs one grpc-js-xds client to the end (bounded) and returns its lines. */
function runCaller(xds: string, node: object): Promise<Line[]> {
  const bootstrap = { xds_servers: [{ server_uri: xds, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }], node };
  const child = spawn(process.execPath, ['--import', 'tsx', CALLER], {
    env: { ...process.env, GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(bootstrap), TARGET: `xds:///${HOST}:${PORT}`, COUNT: '10', READY_MS: '45000' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: Line[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(JSON.parse(l) as Line));
  const killer = setTimeout(() => child.kill(), 120_000);
  return new Promise((res) => child.on('exit', () => { clearTimeout(killer); res(lines); }));
}

test('grpc-js-xds clients in both regions of the playground call a gRPC service 10/10, answered in their own zone', { timeout: 400_000 }, async () => {
  const pg = await startMeshPlayground({ topology, stateDir: mkdtempSync(join(tmpdir(), 'meshfed-proxyless-')), ports: { xds: 0, secure: 0, admin: 0 } });
  let servers: grpc.Server[] = [];
  try {
    servers = await deployGrpcEcho(pg);
    // federation merges the five pods of three clusters into one service (bounded wait)
    const end = Date.now() + 60_000;
    const ready = () => pg.controlPlane.federation.snapshot().services.get(`${NS}/grpc-echo`)?.endpoints.filter((e) => e.ready).length ?? 0;
    while (ready() < 5 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    assert.equal(ready(), 5, 'the grpc-echo pods did not reach the mesh snapshot');

    const xds = `127.0.0.1:${pg.controlPlane.ports.xds}`;
    const east = { id: 'proxyless-east', locality: { region: 'us-east', zone: 'us-east-1a' }, metadata: { NETWORK: 'net-east', CLUSTER_ID: 'east-1', MESHFED_ROLE: 'proxyless' } };
    // the west client has an Istio-style gRPC bootstrap (as istioctl writes it): a sidecar~ id, GENERATOR grpc
    const westIp = podIp(topology.clusters.find((c) => c.name === 'west-1')!, 9);
    const west = { id: `sidecar~${westIp}~client-0.${NS}~${NS}.svc.cluster.local`, locality: { region: 'us-west', zone: 'us-west-1a' }, metadata: { GENERATOR: 'grpc', NETWORK: 'net-west', CLUSTER_ID: 'west-1', ISTIO_VERSION: '1.24.0' } };
    const [eastLines, westLines] = await Promise.all([runCaller(xds, east), runCaller(xds, west)]);
    const report = (lines: Line[]) => JSON.stringify({ warmup: lines[0], answers: lines.slice(1).map((l) => l.id ?? l.error) });
    const nacks = await pilotNacks(pg);
    console.log(JSON.stringify({ east: report(eastLines), west: report(westLines), nacks }));
    assert.deepEqual(nacks, [], 'a client rejected what pilot sent');
    assert.deepEqual(eastLines.slice(1).map((l) => l.id ?? l.error), Array(10).fill('east-1/us-east-1a'), report(eastLines));
    assert.deepEqual(westLines.slice(1).map((l) => l.id ?? l.error), Array(10).fill('west-1/us-west-1a'), report(westLines));
  } finally {
    for (const s of servers) s.forceShutdown();
    await pg.stop();
  }
});

/** NACKs pilot counted (the clients have exited, so their streams are gone from syncStatus; the counter stays). */
async function pilotNacks(pg: MeshPlayground): Promise<string[]> {
  const text = await (await fetch(`http://127.0.0.1:${pg.controlPlane.ports.admin}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith('meshfed_pilot_nacks_total{') && !/ 0$/.test(l));
}
