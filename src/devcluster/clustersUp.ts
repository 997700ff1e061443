// `meshfed dev clusters up`: one API stand-in per cluster of a topology, with Nodes per zone carrying the
// topology labels federation reads, kube-system labelled with the network, and one kubeconfig for all of them.
import { writeFileSync } from 'node:fs';
import type { Topology } from '../mesh/topology.ts';
import { kubeconfigFor, startClusters, type ApiServer } from './index.ts';

export interface RunningClusters {
  servers: ApiServer[];
  kubeconfig: string;
  close(): Promise<void>;
}

export function nodeName(cluster: string, zone: string): string {
  return `${cluster}-${zone}`;
}

function seedTopology(server: ApiServer, c: Topology['clusters'][number]): void {
  const store = server.store;
  const nodes = store.info('', 'nodes');
  for (const zone of c.zones) {
    store.create(nodes, '', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: nodeName(c.name, zone),
        labels: {
          'kubernetes.io/hostname': nodeName(c.name, zone),
          'topology.kubernetes.io/region': c.region,
          'topology.kubernetes.io/zone': zone,
          'topology.istio.io/network': c.network,
        },
      },
      spec: { podCIDR: c.podCIDR },
      status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'meshfed dev node' }], nodeInfo: { kubeletVersion: 'v1.30.0-meshfed' } },
    });
  }
  store.mutate(store.info('', 'namespaces'), '', 'kube-system', (ns) => ({
    ...ns,
    metadata: { ...ns.metadata, labels: { ...(ns.metadata.labels ?? {}), 'topology.istio.io/network': c.network } },
  }));
}

export async function startTopologyClusters(t: Topology, opts: { kubeconfigOut: string; dataDir?: string; onProgress?: (line: string) => void }): Promise<RunningClusters> {
  const servers = await startClusters(
    t.clusters.map((c) => ({ name: c.name, serviceCidr: c.serviceCIDR, ...(opts.dataDir ? { dataDir: `${opts.dataDir}/${c.name}` } : {}) })),
  );
  for (const [i, c] of t.clusters.entries()) {
    const s = servers[i]!;
    if (s.store.list(s.store.info('', 'nodes'), '').items.length === 0) seedTopology(s, c);
    opts.onProgress?.(`cluster ${c.name} (${c.region}, ${c.network}) serving at ${s.url} [${i + 1}/${t.clusters.length}]`);
  }
  writeFileSync(opts.kubeconfigOut, kubeconfigFor(servers, t.controlPlane), { mode: 0o600 });
  return {
    servers,
    kubeconfig: opts.kubeconfigOut,
    close: async () => {
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}
