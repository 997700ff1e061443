// Pure: Istio's short host names, resolved as Istio does — relative to the resource's namespace — to the FQDN the
// mesh uses everywhere (`<name>.<ns>.svc.<domainSuffix>`), so validation and translation compare like with like.
import type { DestinationRule, VirtualService } from './types.ts';
import type { PolicySet } from './validate.ts';

export function qualifyHost(host: string, namespace: string, domainSuffix = 'cluster.local'): string {
  const h = host.toLowerCase();
  if (h.includes('*')) return h;
  const parts = h.split('.');
  if (parts.length === 1) return `${h}.${namespace}.svc.${domainSuffix}`;
  if (parts.length === 2) return `${h}.svc.${domainSuffix}`;
  if (parts.length === 3 && parts[2] === 'svc') return `${h}.${domainSuffix}`;
  return h;
}

export function qualifyVirtualService(vs: VirtualService, domainSuffix?: string): VirtualService {
  const ns = vs.metadata.namespace;
  return {
    ...vs,
    spec: {
      ...vs.spec,
      hosts: vs.spec.hosts.map((h) => qualifyHost(h, ns, domainSuffix)),
      ...(vs.spec.http ? { http: vs.spec.http.map((r) => ({ ...r, route: r.route.map((d) => ({ ...d, destination: { ...d.destination, host: qualifyHost(d.destination.host, ns, domainSuffix) } })) })) } : {}),
    },
  };
}

export function qualifyDestinationRule(dr: DestinationRule, domainSuffix?: string): DestinationRule {
  return { ...dr, spec: { ...dr.spec, host: qualifyHost(dr.spec.host, dr.metadata.namespace, domainSuffix) } };
}

export function qualifyPolicy(p: PolicySet, domainSuffix?: string): PolicySet {
  return { virtualServices: p.virtualServices.map((v) => qualifyVirtualService(v, domainSuffix)), destinationRules: p.destinationRules.map((d) => qualifyDestinationRule(d, domainSuffix)) };
}
