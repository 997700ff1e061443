// Control of traffic leaving the mesh (pure): Istio's ServiceEntry (networking.istio.io: hosts, ports, location,
// resolution DNS/STATIC/NONE, addresses, endpoints) and the Sidecar resource's outboundTrafficPolicy (ALLOW_ANY or
// REGISTRY_ONLY; a Sidecar without workloadSelector in the root namespace sets the mesh default, one in a namespace
// overrides it there; ALLOW_ANY when nothing says, as Istio). Pilot sends each sidecar a `virtualOutbound` listener:
// one filter chain per ServiceEntry host and port (tcp_proxy to `outbound|<port>||<host>`, STATIC endpoints in the
// chain's metadata) and a default chain to Istio's PassthroughCluster (ALLOW_ANY) or BlackHoleCluster (REGISTRY_ONLY).
import { isIP } from 'node:net';
import { packAny, TYPE_URL } from '../xds/protos.ts';
import { checkCidr } from './validate.ts';
import { keepLastGood, type Refused } from './lastGood.ts';
import { DEFAULT_ROOT_NAMESPACE } from './select.ts';

export interface ServiceEntrySpec {
  hosts: string[];
  addresses?: string[];
  ports?: { number: number; name?: string; protocol?: string; targetPort?: number }[];
  location?: 'MESH_EXTERNAL' | 'MESH_INTERNAL';
  resolution?: 'NONE' | 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN';
  endpoints?: { address: string; ports?: Record<string, number> }[];
  exportTo?: string[];
}

export interface ServiceEntry { kind: 'ServiceEntry'; metadata: { namespace: string; name: string; generation: number }; spec: ServiceEntrySpec }

export type OutboundMode = 'ALLOW_ANY' | 'REGISTRY_ONLY';

export interface SidecarSpec { workloadSelector?: unknown; outboundTrafficPolicy?: { mode?: OutboundMode }; egress?: unknown; ingress?: unknown }
export interface SidecarResource { kind: 'Sidecar'; metadata: { namespace: string; name: string; generation: number }; spec: SidecarSpec }

export interface EgressSet { serviceEntries: ServiceEntry[]; sidecars: SidecarResource[] }
export const EMPTY_EGRESS: EgressSet = { serviceEntries: [], sidecars: [] };

const HOST_RE = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;

export function validateServiceEntry(se: ServiceEntry): string[] {
  const errs: string[] = [];
  const s = se.spec;
  if (!Array.isArray(s.hosts) || s.hosts.length === 0) errs.push('spec.hosts: at least one host is required');
  else s.hosts.forEach((h, i) => { if (typeof h !== 'string' || (!HOST_RE.test(h) && !isIP(h))) errs.push(`spec.hosts[${i}]: "${String(h)}" is not a host name (a leading "*." is allowed)`); });
  if (!Array.isArray(s.ports) || s.ports.length === 0) errs.push('spec.ports: at least one port is required');
  else s.ports.forEach((p, i) => { if (!p || !Number.isInteger(p.number) || p.number < 1 || p.number > 65535) errs.push(`spec.ports[${i}].number: must be a port number (1..65535)`); });
  if (s.location !== undefined && !['MESH_EXTERNAL', 'MESH_INTERNAL'].includes(s.location)) errs.push(`spec.location: "${String(s.location)}" must be MESH_EXTERNAL or MESH_INTERNAL`);
  const res = s.resolution ?? 'NONE';
  if (!['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN'].includes(res)) errs.push(`spec.resolution: "${String(res)}" must be NONE, STATIC, DNS or DNS_ROUND_ROBIN`);
  (s.addresses ?? []).forEach((a, i) => { const e = checkCidr(a); if (e) errs.push(`spec.addresses[${i}]: ${e}`); });
  (s.endpoints ?? []).forEach((e, i) => {
    if (!e || typeof e.address !== 'string' || e.address === '') errs.push(`spec.endpoints[${i}].address: required`);
    else if (res === 'STATIC' && !isIP(e.address)) errs.push(`spec.endpoints[${i}].address: "${e.address}" must be an IP address with resolution STATIC`);
  });
  if (res === 'STATIC' && !(s.endpoints?.length)) errs.push('spec.endpoints: resolution STATIC needs at least one endpoint');
  if (s.hosts?.some((h) => h.startsWith('*')) && (res === 'DNS' || res === 'DNS_ROUND_ROBIN') && !(s.endpoints?.length)) errs.push('spec.resolution: DNS cannot resolve a wildcard host; use NONE or give endpoints');
  return errs;
}

export function validateSidecar(sc: SidecarResource): string[] {
  const errs: string[] = [];
  const s = sc.spec;
  if (s.workloadSelector !== undefined) errs.push('spec.workloadSelector: not supported by meshfed (a Sidecar applies to its whole namespace)');
  if (s.egress !== undefined) errs.push('spec.egress: egress listeners are not supported by meshfed; only outboundTrafficPolicy is');
  if (s.ingress !== undefined) errs.push('spec.ingress: not supported by meshfed');
  const mode = s.outboundTrafficPolicy?.mode;
  if (mode !== undefined && mode !== 'ALLOW_ANY' && mode !== 'REGISTRY_ONLY') errs.push(`spec.outboundTrafficPolicy.mode: "${String(mode)}" must be ALLOW_ANY or REGISTRY_ONLY`);
  return errs;
}

/** outboundTrafficPolicy for a namespace: its own Sidecar, else the root namespace's, else ALLOW_ANY. */
export function outboundModeFor(set: EgressSet, namespace: string, rootNamespace = DEFAULT_ROOT_NAMESPACE): OutboundMode {
  const byName = (a: SidecarResource, b: SidecarResource) => a.metadata.name.localeCompare(b.metadata.name);
  const mode = (ns: string) => set.sidecars.filter((s) => s.metadata.namespace === ns).sort(byName).map((s) => s.spec.outboundTrafficPolicy?.mode).find((m) => m !== undefined);
  return mode(namespace) ?? mode(rootNamespace) ?? 'ALLOW_ANY';
}

export const OUTBOUND_LISTENER = 'virtualOutbound';

const str = (s: string) => ({ stringValue: s });

/** The `virtualOutbound` listener for a sidecar in `namespace`. ServiceEntries are visible mesh-wide (exportTo "*"). */
export function outboundListener(set: EgressSet, namespace: string, rootNamespace = DEFAULT_ROOT_NAMESPACE): Record<string, unknown> {
  const mode = outboundModeFor(set, namespace, rootNamespace);
  const tcp = (cluster: string) => [{ name: 'envoy.filters.network.tcp_proxy', typed_config: packAny(TYPE_URL.tcpProxy, { stat_prefix: cluster, cluster }) }];
  const chains: Record<string, unknown>[] = [];
  const sorted = [...set.serviceEntries].sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  for (const se of sorted) {
    const res = se.spec.resolution ?? 'NONE';
    for (const p of se.spec.ports ?? []) {
      const eps = (se.spec.endpoints ?? []).map((e) => `${e.address}:${e.ports?.[p.name ?? ''] ?? p.targetPort ?? p.number}`);
      for (const host of se.spec.hosts) {
        const cluster = `outbound|${p.number}||${host}`;
        chains.push({
          name: cluster,
          filter_chain_match: { destination_port: { value: p.number }, server_names: [host], prefix_ranges: (se.spec.addresses ?? []).map((a) => { const [ip, bits] = a.split('/'); return { address_prefix: ip, prefix_len: { value: bits !== undefined ? Number(bits) : ip!.includes(':') ? 128 : 32 } }; }) },
          filters: tcp(cluster),
          metadata: { filter_metadata: { meshfed: { fields: {
            serviceEntry: str(`${se.metadata.namespace}/${se.metadata.name}`), resolution: str(res), location: str(se.spec.location ?? 'MESH_EXTERNAL'),
            endpoints: { listValue: { values: eps.map(str) } },
          } } } },
        });
      }
    }
  }
  const fallback = mode === 'REGISTRY_ONLY' ? 'BlackHoleCluster' : 'PassthroughCluster';
  return { name: OUTBOUND_LISTENER, address: { socket_address: { address: '0.0.0.0', port_value: 15001 } }, filter_chains: chains, default_filter_chain: { name: fallback, filters: tcp(fallback) } };
}

/** As reconcileSecurity: an invalid object keeps its last good version; the rest of the set is unaffected. */
export function reconcileEgress(previousGood: EgressSet, incoming: EgressSet): { good: EgressSet; rejected: Refused<'ServiceEntry' | 'Sidecar'>[] } {
  const rejected: Refused<'ServiceEntry' | 'Sidecar'>[] = [];
  return {
    good: {
      serviceEntries: keepLastGood(previousGood.serviceEntries, incoming.serviceEntries, validateServiceEntry, rejected),
      sidecars: keepLastGood(previousGood.sidecars, incoming.sidecars, validateSidecar, rejected),
    },
    rejected,
  };
}
