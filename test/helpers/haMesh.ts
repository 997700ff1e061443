// A control plane of several `meshfed control-plane` replicas (processes) in front of one API stand-in with the demo's
// echo Service, and a crowd of sidecar-like xDS clients (the proxies' own XdsClient + wireSidecarXds) that name every
// replica: what the failover test and bench kill replicas under. Each replica slot keeps its xDS port across
// restarts, as a replica behind a Service keeps its name.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { startTopologyCluster } from '../../src/playground/clusters.ts';
import { kubeconfigFor } from '../../src/devcluster/server.ts';
import { adminKubeConfig } from '../../src/devcluster/clientConfig.ts';
import type { SecureServer } from '../../src/devcluster/secure.ts';
import type { TopologyCluster } from '../../src/mesh/topology.ts';
import { demoPods, ECHO_PORT, type DemoPod } from '../../src/playground/demo.ts';
import { applyDemo, setPodReady } from '../../src/playground/objects.ts';
import { gatewaySni } from '../../src/mesh/names.ts';
import { XdsClient } from '../../src/xds/adsClient.ts';
import { wireSidecarXds } from '../../src/proxy/sidecarXds.ts';
import { createLogger } from '../../src/log.ts';
import { adminJson, leaseHolder, startReplica, stopReplicas, until, whenReady, type Replica } from './controlPlaneReplica.ts';

export const ECHO_SNI = gatewaySni('echo.demo.svc.cluster.local', ECHO_PORT);

export interface Update { at: number; healthy: number; via: string }

/** One proxy: its xDS client and what its echo endpoints looked like after every table change. */
export interface WatchedClient {
  nodeId: string;
  xds: XdsClient;
  running: Promise<void>;
  /** healthy echo endpoints in its table now (-1 before its first configuration) */
  healthy: number;
  updates: Update[];
  /** its echo endpoints went missing after it had them (configuration lost) */
  lost: boolean;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

export interface HaMesh {
  cluster: SecureServer;
  echo: DemoPod[];
  /** running replicas, by slot (undefined: killed, not restarted) */
  replicas: Array<Replica | undefined>;
  /** every slot's xDS address, `host:port,host:port` (what the proxies are given) */
  target: string;
  xdsAddress(slot: number): string;
  /** (re)start the replica of a slot, on the slot's xDS port, and wait until it is ready */
  start(slot: number): Promise<Replica>;
  leader(): { slot: number; replica: Replica } | undefined;
  setEchoReady(pod: DemoPod, ready: boolean): Promise<void>;
  clients(n: number): WatchedClient[];
  close(): Promise<void>;
}

export async function startHaMesh(o: { slots: number; replicaArgs: string[]; subnet: number }): Promise<HaMesh> {
  const c: TopologyCluster = { name: 'a', region: 'r1', zones: ['r1a', 'r1b', 'r1c'], network: 'n1', podCIDR: `127.${o.subnet}.0.0/16`, serviceCIDR: `10.${o.subnet}.0.0/16` };
  const cluster = await startTopologyCluster(c);
  // the Lease lives in meshfed-system (`meshfed install` creates it)
  cluster.store.create(cluster.store.info('', 'namespaces'), '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'meshfed-system' } });
  const dir = mkdtempSync(join(tmpdir(), 'meshfed-ha-xds-'));
  const kubeconfig = join(dir, 'a.kubeconfig');
  writeFileSync(kubeconfig, kubeconfigFor([cluster]));
  const kc: k8s.KubeConfig = adminKubeConfig(cluster);
  const pods = demoPods(c);
  await applyDemo(kc, pods);
  const ports = await Promise.all(Array.from({ length: o.slots }, () => freePort()));
  const replicas: Array<Replica | undefined> = ports.map(() => undefined);
  const all: Replica[] = [];
  const clients: WatchedClient[] = [];
  let started = 0;
  const xdsAddress = (slot: number): string => `127.0.0.1:${ports[slot]}`;
  const target = ports.map((_p, i) => xdsAddress(i)).join(',');
  return {
    cluster, echo: pods.filter((p) => p.app === 'echo'), replicas, target, xdsAddress,
    start: async (slot) => {
      const r = await startReplica({ kubeconfig, cluster: c, id: `cp-${++started}`, args: o.replicaArgs, xdsPort: ports[slot]! });
      all.push(r);
      replicas[slot] = r;
      await whenReady(r);
      return r;
    },
    leader: () => {
      const h = leaseHolder(cluster);
      const slot = replicas.findIndex((r) => r?.id === h);
      return slot >= 0 ? { slot, replica: replicas[slot]! } : undefined;
    },
    setEchoReady: (p, ready) => setPodReady(kc, p, ready),
    clients: (n) => {
      const made = Array.from({ length: n }, (_v, i): WatchedClient => {
        const nodeId = `sidecar~127.${o.subnet}.9.${i}~sleep.demo~demo.svc.cluster.local`;
        const xds = new XdsClient(target, { id: nodeId, role: 'sidecar', clusterId: c.name, network: c.network, locality: { region: c.region, zone: c.zones[i % c.zones.length]! } }, createLogger('ha-client', { level: 'error' }));
        const w: WatchedClient = { nodeId, xds, running: Promise.resolve(), healthy: -1, updates: [], lost: false };
        wireSidecarXds(xds, (t) => {
          const eps = t.get(ECHO_SNI);
          if (w.healthy >= 0 && !eps?.length) w.lost = true;
          const healthy = eps ? eps.filter((e) => e.healthy).length : -1;
          if (healthy !== w.healthy) w.updates.push({ at: performance.now(), healthy, via: xds.connectedTo });
          w.healthy = healthy;
        });
        w.running = xds.start();
        return w;
      });
      clients.push(...made);
      return made;
    },
    close: async () => {
      for (const w of clients) w.xds.stop();
      await Promise.all(clients.map((w) => w.running));
      await stopReplicas(all);
      await cluster.close();
    },
  };
}

/**
 * How long after `killedWall` (Date.now()) each of `moved` had its stream open at replica `to`, as `to` saw it
 * (/debug/syncz connectedAt): the reconnect, without waiting for a change to be sent over it.
 */
export async function reconnectTimes(to: Replica, moved: readonly WatchedClient[], killedWall: number): Promise<number[]> {
  const sync = await adminJson<Array<{ nodeId: string; connectedAt: string }>>(to, '/debug/syncz');
  const at = new Map(sync.map((p) => [p.nodeId, Date.parse(p.connectedAt)]));
  return moved.map((c) => {
    const t = at.get(c.nodeId);
    if (t === undefined) throw new Error(`${c.nodeId} is not connected to ${to.id}`);
    return t - killedWall;
  });
}

export interface KillMeasure {
  killed: Replica;
  /** clients that were on the killed replica */
  moved: number;
  /** kill → another replica holds the Lease (at the stand-in) */
  takeoverMs: number;
  /** per moved client: kill → its stream open at the surviving replica */
  reconnectMs: number[];
  /** per client: the echo change's request sent → the client's table has it */
  changeMs: number[];
  /** clients whose echo endpoints went missing (configuration lost) */
  lost: number;
  /** clients not on the surviving replica afterwards */
  stray: number;
}

/**
 * kill -9 the leader of a 2-slot mesh and, at that moment, flip echo pod 0's readiness; wait until every client has
 * the change and another replica leads, then measure. The killed slot is left empty (mesh.start(slot) refills it).
 */
export async function killLeaderDuringChange(mesh: HaMesh, clients: readonly WatchedClient[], o: { waitMs: number }): Promise<KillMeasure> {
  const leader = await until('a leader', o.waitMs, () => mesh.leader());
  const victim = mesh.xdsAddress(leader.slot);
  const moving = clients.filter((c) => c.xds.connectedTo === victim);
  const ready = mesh.echo.length;
  const wasDown = clients[0]!.healthy < ready;
  const want = wasDown ? ready : ready - 1;
  for (const c of clients) c.lost = false;
  leader.replica.child.kill('SIGKILL');
  const killedAt = performance.now();
  const killedWall = Date.now();
  mesh.replicas[leader.slot] = undefined;
  // the change is made as the leader dies (measured from when its request leaves)
  const changedAt = performance.now();
  await mesh.setEchoReady(mesh.echo[0]!, wasDown);
  await until('every client to have the change', o.waitMs, () => clients.every((c) => c.healthy === want));
  await until('another replica to take over', o.waitMs, () => { const l = mesh.leader(); return l && l.slot !== leader.slot ? l : undefined; });
  const takeoverMs = performance.now() - killedAt;
  const survivor = mesh.replicas[1 - leader.slot]!;
  return {
    killed: leader.replica, moved: moving.length, takeoverMs,
    reconnectMs: await reconnectTimes(survivor, moving, killedWall),
    changeMs: clients.map((c) => c.updates.find((u) => u.at >= killedAt && u.healthy === want)!.at - changedAt),
    lost: clients.filter((c) => c.lost).length,
    stray: clients.filter((c) => c.xds.connectedTo !== mesh.xdsAddress(1 - leader.slot)).length,
  };
}
