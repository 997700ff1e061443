// Feeds the gateway from xDS: wildcard CDS (clusters named as their SNI) → EDS for those names → EndpointTable.
import { TYPE_URL } from '../xds/protos.ts';
import { parseGatewaySni } from '../mesh/names.ts';
import type { XdsClient } from '../xds/adsClient.ts';
import type { Endpoint } from './routing.ts';

export interface Cla {
  cluster_name: string;
  endpoints?: { priority?: number; locality?: { region?: string }; lb_endpoints?: { health_status?: string; metadata?: { filter_metadata?: Record<string, { fields?: Record<string, { stringValue?: string }> }> }; endpoint?: { address?: { socket_address?: { address?: string; port_value?: number } } } }[] }[];
}

type LbEndpoint = NonNullable<NonNullable<Cla['endpoints']>[number]['lb_endpoints']>[number];

/**
 * A string in an endpoint's metadata, `filter_metadata[filter][key]`. google.protobuf.Value decodes with protobufjs'
 * camelCase names (`stringValue`), the one spelling the ADS client hands over (docs/CONTRACTS.md, "Struct values").
 */
export function metadataString(lb: LbEndpoint | undefined, filter: string, key: string): string | undefined {
  return lb?.metadata?.filter_metadata?.[filter]?.fields?.[key]?.stringValue;
}

/** ClusterLoadAssignment → endpoints. Throws (→ NACK) on an endpoint without an address. */
export function endpointsFromCla(cla: Cla): Endpoint[] {
  const out: Endpoint[] = [];
  for (const locality of cla.endpoints ?? []) {
    for (const lb of locality.lb_endpoints ?? []) {
      const sa = lb.endpoint?.address?.socket_address;
      if (!sa?.address || !sa.port_value) throw new Error(`cluster ${cla.cluster_name}: endpoint without socket address`);
      const hs = lb.health_status ?? 'UNKNOWN';
      const cluster = metadataString(lb, 'meshfed', 'cluster');
      out.push({ address: sa.address, port: sa.port_value, healthy: hs === 'UNKNOWN' || hs === 'HEALTHY', priority: locality.priority ?? 0, ...(locality.locality?.region ? { region: locality.locality.region } : {}), ...(cluster ? { cluster } : {}) });
    }
  }
  return out;
}

export function wireGatewayXds(xds: XdsClient, onTable: (t: Map<string, Endpoint[]>) => void): void {
  let clusters: string[] = [];
  let table = new Map<string, Endpoint[]>();
  const onEds = (resources: Record<string, unknown>[]): void => {
    const next = new Map<string, Endpoint[]>();
    for (const r of resources) {
      const cla = r as unknown as Cla;
      next.set(cla.cluster_name.toLowerCase(), endpointsFromCla(cla));
    }
    table = next;
    onTable(new Map([...table].filter(([k]) => clusters.includes(k))));
  };
  xds.subscribe(TYPE_URL.cluster, [], (resources) => {
    const names = resources.map((c) => String((c as { name?: unknown }).name ?? ''));
    const bad = names.find((n) => !parseGatewaySni(n));
    if (bad !== undefined) throw new Error(`cluster name "${bad}" is not an SNI outbound_.<port>_.<subset>_.<host>`);
    clusters = names.map((n) => n.toLowerCase());
    onTable(new Map([...table].filter(([k]) => clusters.includes(k))));
    xds.subscribe(TYPE_URL.endpoint, names, onEds);
  });
}
