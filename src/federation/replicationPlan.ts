// Pure replication plan: what each member cluster should hold (Namespaces and selectorless Service copies of
// every federated Service) compared with what it holds → apply/delete actions. Never touches objects without
// meshfed's managed-by label (and a Service taken over by a user's apply is released, not updated). No I/O.
import type * as k8s from '@kubernetes/client-node';
import type { MeshService, MeshSnapshot, ServicePort } from '../mesh/types.ts';
import { createdSecond } from './definitions.ts';
import { ANNOTATIONS, LABELS, MANAGED_BY, isManagedByMeshfed, isReplicaService, isSystemNamespace, isTakenOverReplica } from './labels.ts';

export interface ClusterObjects {
  cluster: string;
  namespaces: readonly k8s.V1Namespace[];
  services: readonly k8s.V1Service[];
  /** used only to decide whether a Namespace meshfed created still holds someone else's workloads */
  pods: readonly k8s.V1Pod[];
}

export type ReplicationAction =
  | { op: 'apply-namespace'; cluster: string; name: string; body: k8s.V1Namespace }
  /**
   * `notBefore` (epoch ms), on the creation of a replica only: the end of the second its newest source Service was
   * created in. A replica created in that same second would tie with its source on creationTimestamp (Kubernetes
   * keeps whole seconds), and so would a Service someone later applies over the replica: the merge would then pick
   * the winner by cluster name, not by age. Created after it, the replica is strictly younger than what it copies.
   */
  | { op: 'apply-service'; cluster: string; namespace: string; name: string; body: k8s.V1Service; notBefore?: number }
  | { op: 'delete-service'; cluster: string; namespace: string; name: string }
  /** drop meshfed's fields (label, annotation, ports only meshfed applied) from a replica someone took over */
  | { op: 'release-service'; cluster: string; namespace: string; name: string }
  | { op: 'delete-namespace'; cluster: string; name: string };

export function namespaceReplica(name: string): k8s.V1Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { [LABELS.managedBy]: MANAGED_BY } } };
}

export function serviceReplica(namespace: string, name: string, ports: readonly ServicePort[], sources: readonly string[]): k8s.V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      namespace, name,
      labels: { [LABELS.managedBy]: MANAGED_BY },
      annotations: { [ANNOTATIONS.sourceClusters]: [...sources].sort().join(',') },
    },
    spec: {
      type: 'ClusterIP',
      ports: ports.map((p) => {
        const out: k8s.V1ServicePort = { port: p.port, protocol: p.protocol, targetPort: p.port as unknown as k8s.IntOrString };
        if (p.name) out.name = p.name;
        if (p.appProtocol) out.appProtocol = p.appProtocol;
        return out;
      }),
    },
  };
}

function portsKey(ports: readonly k8s.V1ServicePort[] | undefined): string {
  return (ports ?? []).map((p) => `${p.name ?? ''}/${p.port}/${p.protocol ?? 'TCP'}/${p.appProtocol ?? ''}`).sort().join(',');
}

/** True when the replica in the cluster already matches the desired one (no write needed). */
export function replicaUpToDate(have: k8s.V1Service, want: k8s.V1Service): boolean {
  return isReplicaService(have)
    && have.metadata?.annotations?.[ANNOTATIONS.sourceClusters] === want.metadata?.annotations?.[ANNOTATIONS.sourceClusters]
    && portsKey(have.spec?.ports) === portsKey(want.spec?.ports);
}

/** When a new replica of `ms` may be created: after the second its newest source (among `byCluster`) was created in. */
function replicaNotBefore(ms: MeshService, key: string, byCluster: ReadonlyMap<string, ReadonlyMap<string, k8s.V1Service>>): number | undefined {
  let newest: number | undefined;
  for (const source of ms.clusters) {
    const svc = byCluster.get(source)?.get(key);
    const sec = svc && createdSecond(svc);
    if (sec !== undefined && sec !== Number.MAX_SAFE_INTEGER && (newest === undefined || sec > newest)) newest = sec;
  }
  return newest === undefined ? undefined : (newest + 1) * 1000;
}

export function planReplication(snapshot: MeshSnapshot, clusters: readonly ClusterObjects[]): ReplicationAction[] {
  const actions: ReplicationAction[] = [];
  const byCluster = new Map(clusters.map((c) => [c.cluster, new Map(c.services.map((s) => [`${s.metadata?.namespace}/${s.metadata?.name}`, s]))]));
  for (const c of clusters) {
    const nsByName = new Map(c.namespaces.map((n) => [n.metadata?.name ?? '', n]));
    const svcByKey = byCluster.get(c.cluster)!;
    const wantedNs = new Set<string>();
    const wantedSvc = new Set<string>();
    for (const [key, ms] of snapshot.services) {
      if (ms.clusters.includes(c.cluster)) continue; // native here: never replicated over
      wantedNs.add(ms.namespace);
      wantedSvc.add(key);
      if (!nsByName.has(ms.namespace)) {
        actions.push({ op: 'apply-namespace', cluster: c.cluster, name: ms.namespace, body: namespaceReplica(ms.namespace) });
      }
      const want = serviceReplica(ms.namespace, ms.name, ms.ports, ms.clusters);
      const have = svcByKey.get(key);
      if (have && !isReplicaService(have)) continue; // a native Service (or a replica someone took over): left alone
      if (have && replicaUpToDate(have, want)) continue;
      const notBefore = have ? undefined : replicaNotBefore(ms, key, byCluster);
      actions.push({ op: 'apply-service', cluster: c.cluster, namespace: ms.namespace, name: ms.name, body: want, ...(notBefore === undefined ? {} : { notBefore }) });
    }
    // GC: replicas whose last source is gone
    const remaining = new Map<string, number>();
    for (const s of c.services) {
      const ns = s.metadata?.namespace ?? '';
      const key = `${ns}/${s.metadata?.name}`;
      if (isTakenOverReplica(s)) actions.push({ op: 'release-service', cluster: c.cluster, namespace: ns, name: s.metadata?.name ?? '' });
      const ours = isReplicaService(s);
      if (ours && !wantedSvc.has(key)) {
        actions.push({ op: 'delete-service', cluster: c.cluster, namespace: ns, name: s.metadata?.name ?? '' });
        continue;
      }
      if (!ours) remaining.set(ns, (remaining.get(ns) ?? 0) + 1);
    }
    for (const p of c.pods) {
      const ns = p.metadata?.namespace ?? '';
      remaining.set(ns, (remaining.get(ns) ?? 0) + 1);
    }
    for (const ns of c.namespaces) {
      const name = ns.metadata?.name ?? '';
      // meshfed-system holds meshfed's own identity (ServiceAccount, token): never garbage
      if (isSystemNamespace(name) || !isManagedByMeshfed(ns.metadata?.labels) || wantedNs.has(name) || (remaining.get(name) ?? 0) > 0) continue;
      if (ns.status?.phase === 'Terminating') continue;
      actions.push({ op: 'delete-namespace', cluster: c.cluster, name });
    }
  }
  return actions;
}
