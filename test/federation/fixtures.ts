// Small builders for Kubernetes objects used by the federation unit tests.
import type * as k8s from '@kubernetes/client-node';
import type { ClusterStatus } from '../../src/mesh/types.ts';
import type { ClusterView } from '../../src/federation/merge.ts';

export function status(name: string, extra: Partial<ClusterStatus> = {}): ClusterStatus {
  return { name, server: `https://127.0.0.1/${name}`, network: `net-${name}`, region: `region-${name}`, state: 'connected', since: '2026-01-01T00:00:00.000Z', services: 0, endpoints: 0, ...extra };
}

export function ns(name: string, labels: Record<string, string> = {}): k8s.V1Namespace {
  return { metadata: { name, labels } };
}

export function svc(namespace: string, name: string, ports: Array<[string, number]>, opts: { created?: string; labels?: Record<string, string>; annotations?: Record<string, string> } = {}): k8s.V1Service {
  return {
    metadata: { namespace, name, labels: opts.labels ?? {}, annotations: opts.annotations ?? {}, creationTimestamp: new Date(opts.created ?? '2026-01-01T00:00:00Z') },
    spec: { ports: ports.map(([n, port]) => ({ name: n, port, protocol: 'TCP' })) },
  };
}

export function pod(namespace: string, name: string, opts: { labels?: Record<string, string>; annotations?: Record<string, string>; sa?: string; node?: string } = {}): k8s.V1Pod {
  return {
    metadata: { namespace, name, labels: opts.labels ?? {}, annotations: opts.annotations ?? {} },
    spec: { containers: [], serviceAccountName: opts.sa, nodeName: opts.node },
  };
}

export function node(name: string, labels: Record<string, string>): k8s.V1Node {
  return { metadata: { name, labels } };
}

export function slice(namespace: string, service: string, ports: Array<[string, number]>, eps: Array<{ ip: string; pod?: string; node?: string; ready?: boolean; zone?: string }>): k8s.V1EndpointSlice {
  return {
    metadata: { namespace, name: `${service}-abc`, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: ports.map(([n, port]) => ({ name: n, port, protocol: 'TCP' })),
    endpoints: eps.map((e) => ({
      addresses: [e.ip],
      ...(e.ready === undefined ? {} : { conditions: { ready: e.ready } }),
      ...(e.node ? { nodeName: e.node } : {}),
      ...(e.zone ? { zone: e.zone } : {}),
      ...(e.pod ? { targetRef: { kind: 'Pod', name: e.pod, namespace } } : {}),
    })),
  };
}

export function view(name: string, parts: Partial<Omit<ClusterView, 'status'>> & { status?: Partial<ClusterStatus> } = {}): ClusterView {
  return {
    status: status(name, parts.status),
    namespaces: parts.namespaces ?? [],
    services: parts.services ?? [],
    endpointSlices: parts.endpointSlices ?? [],
    pods: parts.pods ?? [],
    nodes: parts.nodes ?? [],
  };
}
