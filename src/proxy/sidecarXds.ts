// Feeds the sidecar outbound from xDS: wildcard CDS `outbound|<port>|<subset>|<host>` → EDS → table keyed by the
// SNI `outbound_.<port>_.<subset>_.<host>` (the same key for in-network sidecars and remote gateways).
import { TYPE_URL } from '../xds/protos.ts';
import { gatewaySni, listenerName, parseOutboundClusterName } from '../mesh/names.ts';
import { routeTable, type RouteTable } from './httpRoutes.ts';
import { clusterPolicies, type ClusterPolicy } from './clusterPolicy.ts';
import type { XdsClient } from '../xds/adsClient.ts';
import type { Endpoint } from './routing.ts';
import { endpointsFromCla, metadataString, type Cla } from './gatewayXds.ts';
import type { XdsAppPorts } from './appPorts.ts';

/** Endpoints of one CLA that speak mesh mTLS (tlsMode=istio); plaintext (tlsMode=disabled) ones are dropped. */
export function meshEndpoints(cla: Cla): Endpoint[] {
  // locality key and weight per endpoint, in endpointsFromCla's order (for locality-weighted lb)
  const localities = (cla.endpoints ?? []).flatMap((l) => {
    const { locality: loc, load_balancing_weight: lw } = l as { locality?: { region?: string; zone?: string; sub_zone?: string }; load_balancing_weight?: { value?: number } };
    const w = Number(lw?.value ?? 0);
    return (l.lb_endpoints ?? []).map(() => ({ locality: `${loc?.region ?? ''}/${loc?.zone ?? ''}/${loc?.sub_zone ?? ''}`, ...(w > 0 ? { localityWeight: w } : {}) }));
  });
  const all = endpointsFromCla(cla).map((e, i) => ({ ...e, ...localities[i] }));
  const lbs = (cla.endpoints ?? []).flatMap((l) => l.lb_endpoints ?? []);
  return all.filter((_e, i) => {
    const mode = metadataString(lbs[i], 'istio', 'tlsMode');
    return mode === undefined || mode === '' || mode === 'istio';
  });
}

export function sidecarTable(clas: readonly Cla[], clusters: readonly string[]): Map<string, Endpoint[]> {
  const out = new Map<string, Endpoint[]>();
  for (const cla of clas) {
    if (!clusters.includes(cla.cluster_name)) continue;
    const p = parseOutboundClusterName(cla.cluster_name);
    if (!p) continue;
    out.set(gatewaySni(p.host, p.port, p.subset), meshEndpoints(cla));
  }
  return out;
}

/**
 * What this workload listens on per service port, from EDS: the endpoints at the sidecar's own address carry the
 * workload's port (metadata meshfed.app_port; pilot takes it from the EndpointSlice) → `<host>:<service port>` → port.
 */
export function inboundAppPorts(clas: readonly Cla[], ownAddress: string): XdsAppPorts {
  const out = new Map<string, number>();
  for (const cla of clas) {
    const p = parseOutboundClusterName(cla.cluster_name);
    if (!p || p.subset !== '') continue;
    for (const l of cla.endpoints ?? []) {
      for (const lb of l.lb_endpoints ?? []) {
        if (lb.endpoint?.address?.socket_address?.address !== ownAddress) continue;
        const port = Number(metadataString(lb, 'meshfed', 'app_port'));
        if (Number.isInteger(port) && port >= 1 && port <= 65535) out.set(`${p.host}:${p.port}`, port);
      }
    }
  }
  return out;
}

/** RDS names for a set of CDS clusters: `<host>:<port>` of every default (subset-less) cluster. */
export function routeNames(clusters: readonly string[]): string[] {
  const out = new Set<string>();
  for (const c of clusters) {
    const p = parseOutboundClusterName(c);
    if (p && p.subset === '') out.add(listenerName(p.host, p.port));
  }
  return [...out].sort();
}

/**
 * Wildcard CDS → EDS for those clusters (endpoint table) and RDS for their services (VirtualService routes); cluster
 * policies and routes go to `onPolicy`. A resource the sidecar cannot honor throws, so the client NACKs it and keeps
 * the last good configuration.
 */
export function wireSidecarXds(xds: XdsClient, onTable: (t: Map<string, Endpoint[]>) => void, onPolicy: (routes: RouteTable, clusters: ReadonlyMap<string, ClusterPolicy>) => void = () => {}, onEds: (clas: readonly Cla[]) => void = () => {}): void {
  let clusters: string[] = [];
  let policies: ReadonlyMap<string, ClusterPolicy> = new Map();
  let routes: RouteTable = new Map();
  let clas: readonly Cla[] = [];
  let rdsNames = '';
  xds.subscribe(TYPE_URL.cluster, [], (resources) => {
    const names = resources.map((c) => String((c as { name?: unknown }).name ?? ''));
    const bad = names.find((n) => !parseOutboundClusterName(n));
    if (bad !== undefined) throw new Error(`cluster name "${bad}" is not outbound|<port>|<subset>|<host>`);
    policies = clusterPolicies(resources);
    clusters = names;
    onTable(sidecarTable(clas, clusters));
    onPolicy(routes, policies);
    xds.subscribe(TYPE_URL.endpoint, names, (r) => {
      clas = r as unknown as typeof clas;
      onTable(sidecarTable(clas, clusters));
      onEds(clas);
    });
    const rn = routeNames(names);
    if (rn.join('\n') !== rdsNames) {
      rdsNames = rn.join('\n');
      xds.subscribe(TYPE_URL.route, rn, (r) => {
        routes = routeTable(r);
        onPolicy(routes, policies);
      });
    }
  });
}
