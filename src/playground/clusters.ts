// The multi-cluster playground: one secure stand-in per topology cluster, Nodes per zone with locality labels,
// kube-system labelled with the network (their kubeconfig: devcluster/kubeconfigFile.ts).
import { startSecureApiServer, type SecureServer } from '../devcluster/secure.ts';
import type { Topology, TopologyCluster } from '../mesh/topology.ts';
import { createLogger } from '../log.ts';
import { standinTls } from './standinTls.ts';

export interface Playground { servers: SecureServer[]; close(): Promise<void> }

export const LABEL_REGION = 'topology.kubernetes.io/region';
export const LABEL_ZONE = 'topology.kubernetes.io/zone';
export const LABEL_NETWORK = 'topology.istio.io/network';

/** Pure: the Node objects a cluster of the topology gets (one per zone). */
export function nodesFor(c: TopologyCluster): Array<{ apiVersion: string; kind: string; metadata: { name: string; labels: Record<string, string> }; status: Record<string, unknown> }> {
  return c.zones.map((zone) => ({
    apiVersion: 'v1', kind: 'Node',
    metadata: { name: `${c.name}-${zone}`, labels: { [LABEL_REGION]: c.region, [LABEL_ZONE]: zone, [LABEL_NETWORK]: c.network, 'kubernetes.io/hostname': `${c.name}-${zone}` } },
    status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'meshfed dev node' }], nodeInfo: { kubeletVersion: 'v1.20.15' } },
  }));
}

/** Start one stand-in for `c` and seed it with its Nodes and network label. */
export async function startTopologyCluster(c: TopologyCluster, opts: { host?: string; port?: number; dataDir?: string } = {}): Promise<SecureServer> {
  const s = await startSecureApiServer({ name: c.name, host: opts.host, port: opts.port, serviceCidr: c.serviceCIDR, dataDir: opts.dataDir, tls: standinTls(c.name, opts.host, opts.dataDir), log: createLogger('devcluster') });
  try {
    const nodeInfo = s.store.info('', 'nodes');
    for (const n of nodesFor(c)) {
      try { s.store.get(nodeInfo, '', n.metadata.name); } catch { s.store.create(nodeInfo, '', n); }
    }
    const nsInfo = s.store.info('', 'namespaces');
    s.store.mutate(nsInfo, '', 'kube-system', (ns) => ({ ...ns, metadata: { ...ns.metadata, labels: { ...ns.metadata.labels, [LABEL_NETWORK]: c.network } } }));
  } catch (e) {
    await s.close();
    throw new Error(`cluster "${c.name}": seeding nodes failed: ${(e as Error).message}`);
  }
  return s;
}

export async function startPlayground(t: Topology, opts: { dataDir?: string; onProgress?: (line: string) => void } = {}): Promise<Playground> {
  const servers: SecureServer[] = [];
  try {
    for (const c of t.clusters) {
      const s = await startTopologyCluster(c, { dataDir: opts.dataDir });
      servers.push(s);
      opts.onProgress?.(`cluster ${c.name} (${c.region}, ${c.network}, zones ${c.zones.join(',')}) listening on ${s.url}`);
    }
  } catch (e) {
    await Promise.all(servers.map((s) => s.close()));
    throw e;
  }
  return { servers, close: async () => { await Promise.all(servers.map((s) => s.close())); } };
}
