// What kube-apiserver does to objects of particular kinds when they are written: Services get and keep a ClusterIP,
// CRDs are checked, Secrets fold stringData into data, and which kinds count metadata.generation.
import type { KubeObject, ResourceInfo } from './types.ts';
import type { CrdSpec } from './resources.ts';
import { invalid } from './errors.ts';
import type { ClusterIpAllocator } from './ipalloc.ts';

/** A new Service gets a ClusterIP from the range (or claims the one it asks for) and the usual defaults. */
export function allocateClusterIp(ips: ClusterIpAllocator, obj: KubeObject): void {
  const spec = (obj.spec ?? (obj.spec = {})) as Record<string, unknown>;
  if (spec.clusterIP === 'None' || spec.type === 'ExternalName') return;
  if (typeof spec.clusterIP === 'string' && spec.clusterIP) {
    const err = ips.claim(spec.clusterIP);
    if (err) throw invalid('Service', '', obj.metadata.name ?? '', [{ field: 'spec.clusterIP', message: `Invalid value: "${spec.clusterIP}": ${err}` }]);
  } else spec.clusterIP = ips.allocate();
  spec.clusterIPs = [spec.clusterIP];
  spec.type = spec.type ?? 'ClusterIP';
  spec.sessionAffinity = spec.sessionAffinity ?? 'None';
  if (Array.isArray(spec.ports))
    for (const p of spec.ports as Record<string, unknown>[]) { p.protocol = p.protocol ?? 'TCP'; p.targetPort = p.targetPort ?? p.port; }
}

/** An updated Service keeps its ClusterIP (immutable) and gets the same defaults. */
export function keepClusterIp(cur: KubeObject, next: KubeObject): void {
  const c = (cur.spec ?? {}) as Record<string, unknown>;
  const n = (next.spec ?? (next.spec = {})) as Record<string, unknown>;
  if (n.clusterIP === undefined || n.clusterIP === '') { n.clusterIP = c.clusterIP; if (c.clusterIPs) n.clusterIPs = c.clusterIPs; }
  else if (n.clusterIP !== c.clusterIP)
    throw invalid('Service', '', next.metadata.name ?? '', [{ field: 'spec.clusterIP', message: `Invalid value: "${String(n.clusterIP)}": field is immutable` }]);
  if (Array.isArray(n.ports))
    for (const p of n.ports as Record<string, unknown>[]) { p.protocol = p.protocol ?? 'TCP'; p.targetPort = p.targetPort ?? p.port; }
  n.type = n.type ?? 'ClusterIP';
}

export function releaseClusterIp(ips: ClusterIpAllocator, o: KubeObject): void {
  const ip = (o.spec as Record<string, unknown> | undefined)?.clusterIP;
  if (typeof ip === 'string') ips.release(ip);
}

/** A CRD must name its group, plural, kind and versions, and be called <plural>.<group>. */
export function checkCrd(obj: KubeObject): void {
  const spec = obj.spec as CrdSpec | undefined;
  const causes = [];
  if (!spec?.group) causes.push({ field: 'spec.group', message: 'Required value' });
  if (!spec?.names?.plural) causes.push({ field: 'spec.names.plural', message: 'Required value' });
  if (!spec?.names?.kind) causes.push({ field: 'spec.names.kind', message: 'Required value' });
  if (!Array.isArray(spec?.versions) || spec.versions.length === 0) causes.push({ field: 'spec.versions', message: 'Required value: must have exactly one version marked as storage version' });
  if (spec?.group && spec.names?.plural && obj.metadata.name !== `${spec.names.plural}.${spec.group}`)
    causes.push({ field: 'metadata.name', message: `Invalid value: "${obj.metadata.name}": must be spec.names.plural+"."+spec.group` });
  if (causes.length) throw invalid('CustomResourceDefinition', 'apiextensions.k8s.io', obj.metadata.name ?? '', causes);
}

/** As kube-apiserver: stringData is write-only, merged into data (base64); type defaults to Opaque. */
export function normalizeSecret(obj: KubeObject): void {
  const sd = obj.stringData as Record<string, unknown> | undefined;
  if (sd && typeof sd === 'object') {
    const data = { ...((obj.data as Record<string, string> | undefined) ?? {}) };
    for (const [k, v] of Object.entries(sd)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
    obj.data = data;
  }
  delete obj.stringData;
  obj.type = obj.type ?? 'Opaque';
}

/** kube-apiserver keeps metadata.generation for custom resources and most non-core kinds, not for core/rbac/lease objects. */
export function tracksGeneration(info: ResourceInfo): boolean {
  return !['', 'rbac.authorization.k8s.io', 'coordination.k8s.io', 'events.k8s.io'].includes(info.group);
}

/** Kinds whose update needs metadata.resourceVersion (their registry strategy's AllowUnconditionalUpdate is false). */
export function allowsUnconditionalUpdate(info: ResourceInfo): boolean {
  return !(info.group === 'coordination.k8s.io' && info.plural === 'leases');
}
