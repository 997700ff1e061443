// The whole local mesh in one process: API stand-ins per cluster, the control plane (registering the other clusters
// with the same code as `meshfed cluster add`), one east-west gateway per network, and meshed demo pods. Region
// failure and recovery are simulated the way they look from outside: workloads and gateways stop answering, API
// servers refuse connections.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Topology } from '../mesh/topology.ts';
import { xdsNodeId } from '../mesh/names.ts';
import { adminKubeConfig } from '../devcluster/clientConfig.ts';
import type { SecureServer } from '../devcluster/secure.ts';
import { startPlayground } from './clusters.ts';
import { writeKubeconfig } from '../devcluster/kubeconfigFile.ts';
import { CONTROL_PLANE_SERVICE_NAME, type ControlPlane } from '../controlplane/controlPlane.ts';
import type { LeaderElectionTiming } from '../controlplane/leaderElectionTiming.ts';
import { startControlPlaneReplicas, type ControlPlaneReplicas } from './controlPlanes.ts';
import { registerCluster } from '../federation/register.ts';
import { startGateway, type RunningGateway } from '../proxy/runGateway.ts';
import type { ScrapeTarget } from '../admin/sources.ts';
import { allDemoPods, DEMO_NAMESPACE, ECHO_PORT, SIDECAR_METRICS, SIDECAR_OUTBOUND, type DemoPod } from './demo.ts';
import { applyDemoWithTokens, applyGatewayService } from './objects.ts';
import { startMeshedPod, type MeshEndpoints, type RunningPod } from './meshedPod.ts';
import { callThroughSidecar, callUrl, type CallRequest, type CallResult } from './call.ts';

export const GATEWAY_PORTS = { listen: 15443, health: 15021, metrics: 15090 } as const;
const LOOPBACK = '127.0.0.1';

export interface MeshPlaygroundOptions {
  topology: Topology;
  /** kubeconfig, tokens and the root certificate are written here */
  stateDir: string;
  /** control plane ports on 127.0.0.1 (0 = any free port, for tests) */
  ports: { xds: number; secure: number; admin: number };
  onProgress?: (line: string) => void;
  /** the sleep client of every cluster calls echo this often (ms) — traffic for the dashboard; 0/undefined: none */
  trafficEveryMs?: number;
  /** control-plane replicas in this process (default 1), electing a leader with this timing (default client-go's) */
  controlPlaneReplicas?: number;
  leaderElection?: Partial<LeaderElectionTiming>;
}

export interface MeshPlayground {
  topology: Topology;
  kubeconfig: string;
  clusters: ReadonlyMap<string, SecureServer>;
  /** the first replica running (the one whose dashboard is printed) */
  readonly controlPlane: ControlPlane;
  controlPlanes: ControlPlaneReplicas;
  pods: ReadonlyMap<string, RunningPod | undefined>;
  gateways: ReadonlyMap<string, RunningGateway | undefined>;
  /** regions currently failed */
  failed: ReadonlySet<string>;
  /** one request from the `sleep` pod of `from` through its sidecar to `target` (SERVICE[:PORT][/PATH] or an http:// URL; default echo) */
  call(from: string, target?: string, request?: CallRequest): Promise<CallResult>;
  /** stop (or start again) the echo workloads of a region only */
  stopWorkloads(region: string): Promise<void>;
  startWorkloads(region: string): Promise<void>;
  /** the whole region: its echo workloads, its gateways and its API servers */
  failRegion(region: string): Promise<void>;
  restoreRegion(region: string): Promise<void>;
  stop(): Promise<void>;
}

export const podKey = (p: Pick<DemoPod, 'cluster' | 'name'>): string => `${p.cluster}/${p.name}`;

export async function startMeshPlayground(o: MeshPlaygroundOptions): Promise<MeshPlayground> {
  const t = o.topology;
  const progress = o.onProgress ?? (() => {});
  const stateDir = resolve(o.stateDir);
  mkdirSync(join(stateDir, 'tokens'), { recursive: true, mode: 0o700 });
  const cleanup: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => { for (const c of cleanup.reverse()) await c().catch(() => {}); cleanup.length = 0; };
  try {
    let n = 0;
    const running = await startPlayground(t, { onProgress: (l) => progress(`${l} [${++n}/${t.clusters.length}]`) });
    cleanup.push(() => running.close());
    const clusters = new Map(running.servers.map((s) => [s.name, s]));
    const kubeconfig = join(stateDir, 'kubeconfig');
    writeKubeconfig(kubeconfig, running.servers, t.controlPlane);
    const kcs = new Map([...clusters].map(([name, s]) => [name, adminKubeConfig(s)]));
    const cpKc = kcs.get(t.controlPlane)!;
    const cpCluster = t.clusters.find((c) => c.name === t.controlPlane)!;

    for (const c of t.clusters) {
      if (c.name === t.controlPlane) continue;
      await registerCluster({ remote: kcs.get(c.name)!, name: c.name, network: c.network, region: c.region, controlPlane: cpKc, onProgress: () => {} });
      progress(`registered ${c.name} (${c.region}, ${c.network}) with the control plane in ${t.controlPlane}`);
    }

    // the workloads exist before the mesh is installed, as in a real cluster: Services, Pods, gateway Services
    const demo = allDemoPods(t);
    const tokenFiles = await applyDemoWithTokens(t.clusters.map((c) => c.name), demo, kcs, stateDir);
    for (const g of t.gateways) await applyGatewayService(kcs.get(g.cluster)!, g.network, g.address);
    progress(`demo workloads registered: echo in every zone, a sleep client per cluster (namespace ${DEMO_NAMESPACE}, federated)`);

    const pods = new Map<string, RunningPod | undefined>();
    const gateways = new Map<string, RunningGateway | undefined>();
    const cps = await startControlPlaneReplicas(o.controlPlaneReplicas ?? 1, {
      kubeConfig: cpKc,
      local: { name: cpCluster.name, network: cpCluster.network, region: cpCluster.region },
      failover: t.failover, trustDomain: t.trustDomain, domainSuffix: t.domainSuffix,
      host: LOOPBACK, ports: o.ports,
      scrapeTargets: () => scrapeTargets(pods, gateways, t),
      leaderElection: o.leaderElection ?? {},
    }, progress);
    cleanup.push(() => cps.stop());
    const cp = cps.first();
    for (const c of cps.all()) await c.federation.whenSynced(60_000);
    progress(`${t.clusters.length}/${t.clusters.length} clusters synced`);

    const caCertFile = join(stateDir, 'root-cert.pem');
    writeFileSync(caCertFile, cp.roots.join(''));
    const mesh: MeshEndpoints = { xds: cps.xdsTarget, ca: `${LOOPBACK}:${cp.ports.secure}`, caServerName: CONTROL_PLANE_SERVICE_NAME, caCertFile, trustDomain: t.trustDomain };

    const startGw = async (g: Topology['gateways'][number]): Promise<void> => {
      gateways.set(g.network, await startGateway({
        xds: mesh.xds, network: g.network, region: g.region, clusterId: g.cluster, nodeId: xdsNodeId('router', g.address, `eastwestgateway-${g.network}`, 'meshfed-system'),
        listen: { host: g.address, port: GATEWAY_PORTS.listen }, health: { host: g.address, port: GATEWAY_PORTS.health }, metrics: { host: g.address, port: GATEWAY_PORTS.metrics },
        drainMs: 500,
      }));
    };
    for (const g of t.gateways) {
      await startGw(g);
      progress(`east-west gateway for ${g.network} (${g.region}) on ${g.address}:${GATEWAY_PORTS.listen}`);
    }
    cleanup.push(async () => { for (const g of gateways.values()) await g?.stop(200); });

    const startPod = async (p: DemoPod): Promise<void> => { pods.set(podKey(p), await startMeshedPod(p, tokenFiles.get(podKey(p))!, mesh)); };
    await Promise.all(demo.map(startPod));
    cleanup.push(async () => { await Promise.all([...pods.values()].map((p) => p?.stop())); });
    progress(`${demo.length} demo pods meshed: sidecars have certificates from the CA and config from xDS`);

    const failed = new Set<string>();
    const sleepOf = (cluster: string): DemoPod => {
      const p = demo.find((d) => d.cluster === cluster && d.app === 'sleep');
      if (!p) throw new Error(`no cluster "${cluster}" in the playground (clusters: ${t.clusters.map((c) => c.name).join(', ')})`);
      return p;
    };
    const call = (from: string, target = 'echo', request?: CallRequest): Promise<CallResult> => {
      const p = sleepOf(from);
      return callThroughSidecar({ host: p.ip, port: SIDECAR_OUTBOUND }, callUrl(target, ECHO_PORT), 5000, request);
    };
    const echoPods = (region: string): DemoPod[] => demo.filter((p) => p.region === region && p.app === 'echo');
    const checkRegion = (region: string): void => {
      if (!t.clusters.some((c) => c.region === region)) throw new Error(`no region "${region}" in the playground (regions: ${[...new Set(t.clusters.map((c) => c.region))].join(', ')})`);
    };
    const stopWorkloads = async (region: string): Promise<void> => {
      checkRegion(region);
      await Promise.all(echoPods(region).map(async (p) => { await pods.get(podKey(p))?.stop(); pods.set(podKey(p), undefined); }));
    };
    const startWorkloads = async (region: string): Promise<void> => {
      checkRegion(region);
      await Promise.all(echoPods(region).filter((p) => !pods.get(podKey(p))).map(startPod));
    };

    // wait until every client reaches the service through the mesh (xDS pushed, certificates issued)
    const deadline = Date.now() + 60_000;
    for (const c of t.clusters) {
      for (;;) {
        const r = await call(c.name);
        if (r.ok) break;
        if (Date.now() > deadline) throw new Error(`the sleep pod in ${c.name} cannot reach echo through the mesh: ${r.status} ${r.error}`);
        await new Promise((res) => setTimeout(res, 200));
      }
    }
    progress('every cluster reaches echo.demo through its sidecar');
    if (o.trafficEveryMs) {
      const every = o.trafficEveryMs;
      const timers = t.clusters.map((c) => setInterval(() => { void call(c.name); }, every));
      cleanup.push(async () => { for (const tm of timers) clearInterval(tm); });
      progress(`demo traffic: every cluster's sleep client calls echo every ${every} ms`);
    }

    return {
      topology: t, kubeconfig, clusters, get controlPlane() { return cps.first(); }, controlPlanes: cps, pods, gateways, failed,
      call, stopWorkloads, startWorkloads,
      failRegion: async (region) => {
        checkRegion(region);
        failed.add(region);
        await stopWorkloads(region);
        for (const g of t.gateways.filter((x) => x.region === region)) { await gateways.get(g.network)?.stop(0); gateways.set(g.network, undefined); }
        for (const c of t.clusters.filter((x) => x.region === region)) await clusters.get(c.name)!.setReachable(false);
      },
      restoreRegion: async (region) => {
        checkRegion(region);
        for (const c of t.clusters.filter((x) => x.region === region)) await clusters.get(c.name)!.setReachable(true);
        for (const g of t.gateways.filter((x) => x.region === region)) if (!gateways.get(g.network)) await startGw(g);
        await startWorkloads(region);
        failed.delete(region);
      },
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

function scrapeTargets(pods: ReadonlyMap<string, RunningPod | undefined>, gateways: ReadonlyMap<string, RunningGateway | undefined>, t: Topology): ScrapeTarget[] {
  const out: ScrapeTarget[] = [];
  for (const [key, p] of pods) if (p) out.push({ name: key, url: `http://${p.pod.ip}:${SIDECAR_METRICS}/stats/prometheus` });
  for (const g of t.gateways) if (gateways.get(g.network)) out.push({ name: `gateway/${g.network}`, url: `http://${g.address}:${GATEWAY_PORTS.metrics}/stats/prometheus` });
  return out;
}
