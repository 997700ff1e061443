// The mesh model: what federation produces and pilot/admin consume. Plain immutable data, no I/O,
// no Kubernetes types — a MeshSnapshot can come from anywhere (Kubernetes watchers, a file, a test).

export interface Locality {
  region: string;
  zone: string;
  subZone: string;
}

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface ServicePort {
  /** Kubernetes port name ('' when the Service has a single unnamed port) */
  name: string;
  port: number;
  protocol: Protocol;
  /** appProtocol, or inferred from the port name prefix (http-, grpc-, tcp-) */
  appProtocol?: string;
}

/** How a proxy must talk to this endpoint. 'istio' = it has a meshfed sidecar that terminates mTLS. */
export type TlsMode = 'istio' | 'disabled';

export interface Endpoint {
  /** member cluster that reported it */
  cluster: string;
  network: string;
  locality: Locality;
  /** pod IP */
  address: string;
  /** service port name → the port the workload listens on (EndpointSlice ports) */
  ports: Readonly<Record<string, number>>;
  ready: boolean;
  tlsMode: TlsMode;
  /** sidecar inbound port when tlsMode is 'istio' (pod annotation meshfed.io/inbound-port, default 15006) */
  inboundPort?: number;
  serviceAccount?: string;
  podName?: string;
  nodeName?: string;
  labels: Readonly<Record<string, string>>;
  /** ISO time since which the endpoint's cluster has been unreachable: the data is last-known */
  staleSince?: string;
}

export interface PortConflict {
  /** cluster whose definition lost */
  cluster: string;
  /** cluster whose (older) definition won */
  winner: string;
  detail: string;
}

export interface MeshService {
  namespace: string;
  name: string;
  /** `<name>.<namespace>.svc.<domainSuffix>` */
  hostname: string;
  /** ports of the oldest definition (MCS rule: the oldest wins a conflict) */
  ports: readonly ServicePort[];
  /** clusters where the Service exists natively (not as meshfed's replica) */
  clusters: readonly string[];
  endpoints: readonly Endpoint[];
  conflicts: readonly PortConflict[];
}

export type ClusterState = 'connected' | 'syncing' | 'unreachable' | 'error';

export interface ClusterStatus {
  name: string;
  server: string;
  network: string;
  region: string;
  state: ClusterState;
  /** ISO time of the last state change */
  since: string;
  /** human reason when unreachable/error */
  reason?: string;
  /** ISO time of the last answer from the cluster's API server (a list, a watch event or bookmark, or the probe of a
   *  quiet watch): recent on a healthy cluster even when nothing changes; old only while it does not answer */
  lastSync?: string;
  services: number;
  endpoints: number;
}

/** An east-west gateway: the address other networks use to reach this network's workloads. */
export interface Gateway {
  network: string;
  region: string;
  /** member cluster that hosts it (if it came from a Service) */
  cluster?: string;
  address: string;
  /** usually 15443 */
  port: number;
}

export interface MeshSnapshot {
  /** increases with every change */
  version: number;
  /** ISO time it was built */
  builtAt: string;
  trustDomain: string;
  /** usually 'cluster.local' */
  domainSuffix: string;
  clusters: readonly ClusterStatus[];
  /** keyed by `namespace/name` */
  services: ReadonlyMap<string, MeshService>;
  gateways: readonly Gateway[];
  /** region → regions in failover order, closest first (the region itself excluded) */
  failover: Readonly<Record<string, readonly string[]>>;
}

export function serviceKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export function emptySnapshot(partial: Partial<MeshSnapshot> = {}): MeshSnapshot {
  return {
    version: 0,
    builtAt: new Date(0).toISOString(),
    trustDomain: 'cluster.local',
    domainSuffix: 'cluster.local',
    clusters: [],
    services: new Map(),
    gateways: [],
    failover: {},
    ...partial,
  };
}
