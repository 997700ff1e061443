// The playground's demo workloads as a pure plan: per cluster, an `echo` Deployment-like set of Pods (one per zone)
// behind the federated Service demo/echo, and one `sleep` client Pod — each with a pod IP from the cluster's loopback
// pod CIDR, so the processes that play them can listen there. The objects are what a kubelet would report.
import { cidrRange } from '../mesh/topology.ts';
import type { Topology, TopologyCluster } from '../mesh/topology.ts';

export const DEMO_NAMESPACE = 'demo';
export const ECHO_PORT = 8080;
export const SIDECAR_INBOUND = 15006;
export const SIDECAR_OUTBOUND = 15001;
export const SIDECAR_METRICS = 15090;

export interface DemoPod {
  cluster: string;
  region: string;
  zone: string;
  network: string;
  name: string;
  app: 'echo' | 'sleep';
  serviceAccount: string;
  ip: string;
  nodeName: string;
}

function ipAt(cidr: string, offset: number): string {
  const r = cidrRange(cidr);
  if (!r) throw new Error(`bad pod CIDR ${cidr}`);
  const n = r[0] + offset;
  if (n > r[1]) throw new Error(`pod CIDR ${cidr} is too small for the demo`);
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** echo-<zone> at <podCIDR>.1.(10+i) … and sleep at <podCIDR>.0.100: one echo pod per zone, one client per cluster. */
export function demoPods(c: TopologyCluster): DemoPod[] {
  const base = { cluster: c.name, region: c.region, network: c.network };
  const echo = c.zones.map((zone, i): DemoPod => ({ ...base, zone, name: `echo-${zone}`, app: 'echo', serviceAccount: 'echo', ip: ipAt(c.podCIDR, 256 + 10 + i), nodeName: `${c.name}-${zone}` }));
  const sleep: DemoPod = { ...base, zone: c.zones[0]!, name: 'sleep', app: 'sleep', serviceAccount: 'sleep', ip: ipAt(c.podCIDR, 100), nodeName: `${c.name}-${c.zones[0]}` };
  return [...echo, sleep];
}

export function allDemoPods(t: Topology): DemoPod[] {
  return t.clusters.flatMap(demoPods);
}

export function demoNamespace(): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: DEMO_NAMESPACE, labels: { 'meshfed.io/federation': 'enabled' } } };
}

export function echoService(): Record<string, unknown> {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: 'echo', namespace: DEMO_NAMESPACE, labels: { app: 'echo' } },
    spec: { selector: { app: 'echo' }, ports: [{ name: 'http', port: ECHO_PORT, targetPort: 'http', protocol: 'TCP', appProtocol: 'http' }] },
  };
}

export function serviceAccount(name: string): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: DEMO_NAMESPACE } };
}

/** The Pod as created (spec) — status is reported separately, as a kubelet does. */
/** The pod's labels (its sidecar also sends them to pilot as node metadata LABELS, as Istio's sidecars do). */
export function podLabels(p: DemoPod): Record<string, string> {
  return { app: p.app, 'security.istio.io/tlsMode': 'istio', 'topology.kubernetes.io/zone': p.zone };
}

export function podObject(p: DemoPod): Record<string, unknown> {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name: p.name, namespace: DEMO_NAMESPACE,
      labels: podLabels(p),
      annotations: { 'meshfed.io/inbound-port': String(SIDECAR_INBOUND) },
    },
    spec: {
      nodeName: p.nodeName,
      serviceAccountName: p.serviceAccount,
      containers: [
        { name: p.app, image: 'meshfed:dev', ...(p.app === 'echo' ? { ports: [{ name: 'http', containerPort: ECHO_PORT, protocol: 'TCP' }] } : {}) },
        { name: 'meshfed-sidecar', image: 'meshfed:dev', args: ['sidecar'] },
      ],
    },
  };
}

export function podStatus(p: DemoPod, ready: boolean, now: string): Record<string, unknown> {
  return {
    phase: 'Running', podIP: p.ip, podIPs: [{ ip: p.ip }], hostIP: p.ip, startTime: now,
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now }],
  };
}

/** The east-west gateway Service federation discovers (docs/CONTRACTS.md): address in externalIPs. */
export function gatewayService(network: string, address: string): Record<string, unknown> {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: 'meshfed-eastwestgateway', namespace: 'meshfed-system', labels: { 'meshfed.io/gateway': 'eastwest', 'topology.istio.io/network': network } },
    spec: { type: 'ClusterIP', externalIPs: [address], ports: [{ name: 'tls', port: 15443, targetPort: 15443, protocol: 'TCP' }] },
  };
}
