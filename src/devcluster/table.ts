// meta.k8s.io Table rendering with the columns kubectl shows for each kind (kube-apiserver's printers, abridged).
import type { KubeObject, ResourceInfo, Table } from './types.ts';

type Col = { name: string; type?: string; format?: string; priority?: number; description?: string; cell: (o: KubeObject, now: number) => unknown };
type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- loosely typed object bodies, internal only

export function age(ts: string | undefined, now = Date.now()): string {
  if (!ts) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 600) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ''}`;
  if (s < 3 * 3600) return `${Math.floor(s / 60)}m`;
  if (s < 8 * 3600) { const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60); return m ? `${h}h${m}m` : `${h}h`; }
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

const NAME: Col = { name: 'Name', format: 'name', description: 'Name must be unique within a namespace.', cell: (o) => o.metadata.name };
const AGE: Col = { name: 'Age', description: 'CreationTimestamp', cell: (o, now) => age(o.metadata.creationTimestamp, now) };
const CREATED_AT: Col = { name: 'Created At', type: 'date', cell: (o) => o.metadata.creationTimestamp };
const b = (o: KubeObject) => o as unknown as Any;
const none = (v: string) => (v === '' ? '<none>' : v);

function svcPorts(o: KubeObject): string {
  const ports: Any[] = b(o).spec?.ports ?? [];
  return none(ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(','));
}
function externalIp(o: KubeObject): string {
  const s = b(o).spec ?? {};
  const ing: Any[] = b(o).status?.loadBalancer?.ingress ?? [];
  const ips = [...(s.externalIPs ?? []), ...ing.map((i) => i.ip ?? i.hostname)];
  if (ips.length) return ips.join(',');
  if (s.type === 'ExternalName') return s.externalName ?? '<none>';
  return s.type === 'LoadBalancer' ? '<pending>' : '<none>';
}
function podReady(o: KubeObject): string {
  const total = (b(o).spec?.containers ?? []).length;
  const ready = (b(o).status?.containerStatuses ?? []).filter((c: Any) => c.ready).length;
  return `${ready}/${total}`;
}
function podStatus(o: KubeObject): string {
  if (o.metadata.deletionTimestamp) return 'Terminating';
  const st = b(o).status ?? {};
  for (const c of st.containerStatuses ?? []) if (c.state?.waiting?.reason) return c.state.waiting.reason;
  return st.reason ?? st.phase ?? 'Pending';
}
function nodeStatus(o: KubeObject): string {
  const ready = (b(o).status?.conditions ?? []).find((c: Any) => c.type === 'Ready');
  const s = ready?.status === 'True' ? 'Ready' : 'NotReady';
  return b(o).spec?.unschedulable ? `${s},SchedulingDisabled` : s;
}
function nodeRoles(o: KubeObject): string {
  const roles = Object.keys(o.metadata.labels ?? {}).filter((k) => k.startsWith('node-role.kubernetes.io/')).map((k) => k.slice('node-role.kubernetes.io/'.length));
  return none(roles.sort().join(','));
}
const subjects = (kind: string) => (o: KubeObject) => ((b(o).subjects ?? []) as Any[]).filter((s) => s.kind === kind).map((s) => (kind === 'ServiceAccount' ? `${s.namespace ?? ''}/${s.name}` : s.name)).join(', ');

const COLUMNS: Record<string, Col[]> = {
  namespaces: [NAME, { name: 'Status', cell: (o) => b(o).status?.phase ?? 'Active' }, AGE],
  services: [
    NAME, { name: 'Type', cell: (o) => b(o).spec?.type ?? 'ClusterIP' }, { name: 'Cluster-IP', cell: (o) => b(o).spec?.clusterIP ?? '<none>' },
    { name: 'External-IP', cell: externalIp }, { name: 'Port(s)', cell: svcPorts }, AGE,
    { name: 'Selector', priority: 1, cell: (o) => none(Object.entries(b(o).spec?.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',')) },
  ],
  pods: [
    NAME, { name: 'Ready', cell: podReady }, { name: 'Status', cell: podStatus },
    { name: 'Restarts', type: 'integer', cell: (o) => (b(o).status?.containerStatuses ?? []).reduce((n: number, c: Any) => n + (c.restartCount ?? 0), 0) }, AGE,
    { name: 'IP', priority: 1, cell: (o) => b(o).status?.podIP ?? '<none>' }, { name: 'Node', priority: 1, cell: (o) => b(o).spec?.nodeName ?? '<none>' },
    { name: 'Nominated Node', priority: 1, cell: (o) => b(o).status?.nominatedNodeName ?? '<none>' }, { name: 'Readiness Gates', priority: 1, cell: () => '<none>' },
  ],
  nodes: [
    NAME, { name: 'Status', cell: nodeStatus }, { name: 'Roles', cell: nodeRoles }, AGE, { name: 'Version', cell: (o) => b(o).status?.nodeInfo?.kubeletVersion ?? '' },
    { name: 'Internal-IP', priority: 1, cell: (o) => ((b(o).status?.addresses ?? []) as Any[]).find((a) => a.type === 'InternalIP')?.address ?? '<none>' },
  ],
  endpointslices: [
    NAME, { name: 'AddressType', cell: (o) => b(o).addressType ?? '' },
    { name: 'Ports', cell: (o) => { const p = (b(o).ports ?? []) as Any[]; return p.length ? p.map((x) => x.port ?? '<unset>').join(',') : '<unset>'; } },
    { name: 'Endpoints', cell: (o) => { const a = ((b(o).endpoints ?? []) as Any[]).flatMap((e) => e.addresses ?? []); return a.length ? a.slice(0, 3).join(',') + (a.length > 3 ? ` + ${a.length - 3} more...` : '') : '<unset>'; } },
    AGE,
  ],
  secrets: [NAME, { name: 'Type', cell: (o) => b(o).type ?? 'Opaque' }, { name: 'Data', type: 'integer', cell: (o) => Object.keys(b(o).data ?? {}).length }, AGE],
  configmaps: [NAME, { name: 'Data', type: 'integer', cell: (o) => Object.keys(b(o).data ?? {}).length + Object.keys(b(o).binaryData ?? {}).length }, AGE],
  serviceaccounts: [NAME, { name: 'Secrets', type: 'integer', cell: (o) => (b(o).secrets ?? []).length }, AGE],
  leases: [NAME, { name: 'Holder', cell: (o) => b(o).spec?.holderIdentity ?? '' }, AGE],
  roles: [NAME, CREATED_AT],
  clusterroles: [NAME, CREATED_AT],
  rolebindings: [NAME, { name: 'Role', cell: (o) => `${b(o).roleRef?.kind}/${b(o).roleRef?.name}` }, AGE,
    { name: 'Users', priority: 1, cell: subjects('User') }, { name: 'Groups', priority: 1, cell: subjects('Group') }, { name: 'ServiceAccounts', priority: 1, cell: subjects('ServiceAccount') }],
  clusterrolebindings: [NAME, { name: 'Role', cell: (o) => `${b(o).roleRef?.kind}/${b(o).roleRef?.name}` }, AGE,
    { name: 'Users', priority: 1, cell: subjects('User') }, { name: 'Groups', priority: 1, cell: subjects('Group') }, { name: 'ServiceAccounts', priority: 1, cell: subjects('ServiceAccount') }],
  customresourcedefinitions: [NAME, CREATED_AT],
  // kubectl get events (core/v1 and events.k8s.io/v1 field names)
  events: [
    { name: 'Last Seen', cell: (o, now) => age(b(o).lastTimestamp ?? b(o).deprecatedLastTimestamp ?? b(o).eventTime ?? b(o).series?.lastObservedTime ?? b(o).firstTimestamp ?? o.metadata.creationTimestamp, now) },
    { name: 'Type', cell: (o) => b(o).type ?? '' }, { name: 'Reason', cell: (o) => b(o).reason ?? '' },
    { name: 'Object', cell: (o) => { const r = b(o).involvedObject ?? b(o).regarding ?? {}; return `${String(r.kind ?? '').toLowerCase()}/${r.name ?? ''}`; } },
    { name: 'Message', cell: (o) => String(b(o).message ?? b(o).note ?? '').trim() },
    { name: 'Subobject', priority: 1, cell: (o) => (b(o).involvedObject ?? b(o).regarding ?? {}).fieldPath ?? '' },
    { name: 'Source', priority: 1, cell: (o) => b(o).source?.component ?? b(o).reportingController ?? b(o).reportingComponent ?? '' },
    { name: 'First Seen', priority: 1, cell: (o, now) => age(b(o).firstTimestamp ?? b(o).eventTime ?? o.metadata.creationTimestamp, now) },
    { name: 'Count', type: 'integer', priority: 1, cell: (o) => b(o).count ?? b(o).series?.count ?? 1 },
    { name: 'Name', priority: 1, cell: (o) => o.metadata.name },
  ],
  deployments: [
    NAME, { name: 'Ready', cell: (o) => `${b(o).status?.readyReplicas ?? 0}/${b(o).spec?.replicas ?? 1}` },
    { name: 'Up-to-date', type: 'integer', cell: (o) => b(o).status?.updatedReplicas ?? 0 },
    { name: 'Available', type: 'integer', cell: (o) => b(o).status?.availableReplicas ?? 0 }, AGE,
    { name: 'Containers', priority: 1, cell: (o) => ((b(o).spec?.template?.spec?.containers ?? []) as Any[]).map((c) => c.name).join(',') },
    { name: 'Images', priority: 1, cell: (o) => ((b(o).spec?.template?.spec?.containers ?? []) as Any[]).map((c) => c.image).join(',') },
    { name: 'Selector', priority: 1, cell: (o) => none(Object.entries(b(o).spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',')) },
  ],
};

/** Columns from a CRD version's additionalPrinterColumns (jsonPath of the simple `.a.b.c` form). */
export function printerColumns(cols: Array<{ name: string; type: string; jsonPath: string; priority?: number; format?: string; description?: string }>): Col[] {
  const get = (o: KubeObject, path: string): unknown => path.replace(/^\./, '').split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Any)[k] : undefined), o);
  return [NAME, ...cols.map((c) => ({
    name: c.name, type: c.type, format: c.format ?? '', priority: c.priority ?? 0, description: c.description ?? '',
    cell: (o: KubeObject, now: number) => (c.jsonPath === '.metadata.creationTimestamp' ? age(String(get(o, c.jsonPath) ?? ''), now) : get(o, c.jsonPath) ?? null),
  })), ...(cols.some((c) => c.jsonPath === '.metadata.creationTimestamp') ? [] : [AGE])];
}

export function columnsFor(info: ResourceInfo): Col[] {
  return (info.group === '' || info.group === 'apps' || info.group.endsWith('.k8s.io') || info.group === 'apiextensions.k8s.io' ? COLUMNS[info.plural] : undefined) ?? [NAME, AGE];
}

export function toTable(cols: Col[], objects: KubeObject[], now = Date.now()): Table {
  return {
    kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: {},
    columnDefinitions: cols.map((c) => ({ name: c.name, type: c.type ?? 'string', format: c.format ?? '', description: c.description ?? c.name, priority: c.priority ?? 0 })),
    rows: objects.map((o) => ({
      cells: cols.map((c) => c.cell(o, now)),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}

export function builtinTable(info: ResourceInfo, objects: KubeObject[]): Table {
  return toTable(columnsFor(info), objects);
}
