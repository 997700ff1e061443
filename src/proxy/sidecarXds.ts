// Feeds the sidecar outbound from xDS: wildcard CDS `outbound|<port>|<subset>|<host>` → EDS → table keyed by the
// SNI `outbound_.<port>_.<subset>_.<host>` (the same key for in-network sidecars and remote gateways).
import { TYPE_URL } from '../xds/protos.ts';
import { gatewaySni, parseOutboundClusterName } from '../mesh/names.ts';
import type { XdsClient } from './xdsClient.ts';
import type { Endpoint } from './routing.ts';
import { endpointsFromCla } from './gatewayXds.ts';

interface MetaCla {
  cluster_name: string;
  endpoints?: { lb_endpoints?: { metadata?: { filter_metadata?: Record<string, { fields?: Record<string, { stringValue?: string; string_value?: string }> }> } }[] }[];
}

/** Endpoints of one CLA that speak mesh mTLS (tlsMode=istio); plaintext (tlsMode=disabled) ones are dropped. */
export function meshEndpoints(cla: MetaCla & Parameters<typeof endpointsFromCla>[0]): Endpoint[] {
  const all = endpointsFromCla(cla);
  const lbs = (cla.endpoints ?? []).flatMap((l) => l.lb_endpoints ?? []);
  return all.filter((_e, i) => {
    const f = lbs[i]?.metadata?.filter_metadata?.istio?.fields?.tlsMode;
    const mode = f?.stringValue ?? f?.string_value;
    return mode === undefined || mode === '' || mode === 'istio';
  });
}

export function sidecarTable(clas: (MetaCla & Parameters<typeof endpointsFromCla>[0])[], clusters: readonly string[]): Map<string, Endpoint[]> {
  const out = new Map<string, Endpoint[]>();
  for (const cla of clas) {
    if (!clusters.includes(cla.cluster_name)) continue;
    const p = parseOutboundClusterName(cla.cluster_name);
    if (!p) continue;
    out.set(gatewaySni(p.host, p.port, p.subset), meshEndpoints(cla));
  }
  return out;
}

export function wireSidecarXds(xds: XdsClient, onTable: (t: Map<string, Endpoint[]>) => void): void {
  let clusters: string[] = [];
  let clas: Parameters<typeof sidecarTable>[0] = [];
  xds.subscribe(TYPE_URL.cluster, [], (resources) => {
    const names = resources.map((c) => String((c as { name?: unknown }).name ?? ''));
    const bad = names.find((n) => !parseOutboundClusterName(n));
    if (bad !== undefined) throw new Error(`cluster name "${bad}" is not outbound|<port>|<subset>|<host>`);
    clusters = names;
    onTable(sidecarTable(clas, clusters));
    xds.subscribe(TYPE_URL.endpoint, names, (r) => {
      clas = r as unknown as typeof clas;
      onTable(sidecarTable(clas, clusters));
    });
  });
}
