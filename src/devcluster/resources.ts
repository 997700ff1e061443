// The resource table: every kind the stand-in serves, as kube-apiserver's discovery describes it.
import type { ResourceInfo } from './types.ts';

const RW = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function r(
  group: string, version: string, plural: string, kind: string, namespaced: boolean,
  shortNames: string[] = [], extra: Partial<ResourceInfo> = {},
): ResourceInfo {
  return {
    group, version, plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List`, namespaced,
    verbs: RW, shortNames, categories: [], subresources: [], ...extra,
  };
}

const create = ['create'];

export const BUILTIN_RESOURCES: ResourceInfo[] = [
  r('', 'v1', 'namespaces', 'Namespace', false, ['ns'], { verbs: RW.filter((v) => v !== 'deletecollection'), subresources: ['status'] }),
  r('', 'v1', 'services', 'Service', true, ['svc'], { categories: ['all'], subresources: ['status'] }),
  r('', 'v1', 'pods', 'Pod', true, ['po'], { categories: ['all'], subresources: ['status', 'eviction', 'log', 'exec', 'attach', 'portforward'] }),
  r('', 'v1', 'nodes', 'Node', false, ['no'], { subresources: ['status'] }),
  r('', 'v1', 'secrets', 'Secret', true),
  r('', 'v1', 'configmaps', 'ConfigMap', true, ['cm']),
  r('', 'v1', 'serviceaccounts', 'ServiceAccount', true, ['sa'], { subresources: ['token'] }),
  r('', 'v1', 'endpoints', 'Endpoints', true, ['ep']),
  r('', 'v1', 'events', 'Event', true, ['ev']),
  r('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice', true),
  r('apps', 'v1', 'deployments', 'Deployment', true, ['deploy'], { categories: ['all'], subresources: ['status', 'scale'] }),
  r('events.k8s.io', 'v1', 'events', 'Event', true, ['ev']),
  r('coordination.k8s.io', 'v1', 'leases', 'Lease', true),
  // stored, not enforced: evictions are always allowed (the stand-in runs no pods whose availability could suffer)
  r('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget', true, ['pdb'], { subresources: ['status'] }),
  r('rbac.authorization.k8s.io', 'v1', 'roles', 'Role', true),
  r('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false),
  r('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', true),
  r('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false),
  r('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'CustomResourceDefinition', false, ['crd', 'crds'], { subresources: ['status'] }),
  r('authentication.k8s.io', 'v1', 'tokenreviews', 'TokenReview', false, [], { verbs: create, virtual: true }),
  r('authentication.k8s.io', 'v1', 'selfsubjectreviews', 'SelfSubjectReview', false, [], { verbs: create, virtual: true }),
  r('authorization.k8s.io', 'v1', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview', false, [], { verbs: create, virtual: true }),
  r('authorization.k8s.io', 'v1', 'selfsubjectrulesreviews', 'SelfSubjectRulesReview', false, [], { verbs: create, virtual: true }),
  r('authorization.k8s.io', 'v1', 'subjectaccessreviews', 'SubjectAccessReview', false, [], { verbs: create, virtual: true }),
];

/** Storage key of a resource: versions of one group/plural share storage. */
export const resourceKey = (group: string, plural: string): string => `${group}/${plural}`;
export const apiVersionOf = (info: Pick<ResourceInfo, 'group' | 'version'>): string =>
  info.group ? `${info.group}/${info.version}` : info.version;

interface CrdVersion { name: string; served?: boolean; storage?: boolean; subresources?: { status?: unknown } }
export interface CrdSpec {
  group: string;
  scope: 'Namespaced' | 'Cluster';
  names: { plural: string; singular?: string; kind: string; listKind?: string; shortNames?: string[]; categories?: string[] };
  versions: CrdVersion[];
}

/** Resource infos a CRD contributes: one per served version. */
export function resourcesFromCrd(spec: CrdSpec): ResourceInfo[] {
  return spec.versions.filter((v) => v.served !== false).map((v) => ({
    group: spec.group, version: v.name, plural: spec.names.plural,
    singular: spec.names.singular ?? spec.names.kind.toLowerCase(), kind: spec.names.kind,
    listKind: spec.names.listKind ?? `${spec.names.kind}List`, namespaced: spec.scope !== 'Cluster',
    verbs: RW, shortNames: spec.names.shortNames ?? [], categories: spec.names.categories ?? [],
    subresources: v.subresources?.status !== undefined ? ['status'] : [], custom: true,
  }));
}

/** The live table of one cluster: built-ins plus whatever CRDs are present. */
export class ResourceTable {
  private crd = new Map<string, ResourceInfo[]>(); // crd name → infos
  all(): ResourceInfo[] {
    return [...BUILTIN_RESOURCES, ...[...this.crd.values()].flat()];
  }
  setCrd(name: string, infos: ResourceInfo[]): void {
    if (infos.length) this.crd.set(name, infos);
    else this.crd.delete(name);
  }
  removeCrd(name: string): void {
    this.crd.delete(name);
  }
  find(group: string, version: string, plural: string): ResourceInfo | undefined {
    return this.all().find((i) => i.group === group && i.version === version && i.plural === plural);
  }
  byKey(group: string, plural: string): ResourceInfo | undefined {
    return this.all().find((i) => i.group === group && i.plural === plural);
  }
  groups(): Map<string, string[]> {
    const m = new Map<string, string[]>();
    for (const i of this.all()) {
      if (!i.group) continue;
      const vs = m.get(i.group) ?? [];
      if (!vs.includes(i.version)) vs.push(i.version);
      m.set(i.group, vs);
    }
    return m;
  }
}
