// The sidecar's view of `virtualOutbound` (pilot's ServiceEntries and outboundTrafficPolicy) and the decision for a
// destination that is not a mesh service: a ServiceEntry's endpoints, passthrough (ALLOW_ANY) or refused
// (REGISTRY_ONLY). Pure; the forwarding itself is src/proxy/egressForward.ts.
import { BlockList, isIP } from 'node:net';

export interface EgressEntry {
  /** exact host or `*.suffix` */
  host: string;
  port: number;
  serviceEntry: string;
  resolution: string;
  /** `<address>:<port>` for STATIC (and DNS with endpoints); empty = connect to the host itself */
  endpoints: string[];
  addresses: { prefix: string; len: number }[];
}

export interface EgressPolicy {
  mode: 'ALLOW_ANY' | 'REGISTRY_ONLY';
  entries: EgressEntry[];
}

export type EgressDecision =
  | { kind: 'service_entry'; host: string; port: number; serviceEntry: string }
  | { kind: 'passthrough'; host: string; port: number }
  | { kind: 'refused' };

/** google.protobuf.Value as the ADS client decodes it: protobufjs' camelCase names, the one spelling */
interface Val { stringValue?: string; listValue?: { values?: Val[] } }
const s = (v: Val | undefined): string => v?.stringValue ?? '';

export function egressPolicyFromListener(l: Record<string, unknown>): EgressPolicy {
  const def = (l.default_filter_chain as { name?: string } | null | undefined)?.name ?? '';
  if (def !== 'PassthroughCluster' && def !== 'BlackHoleCluster') throw new Error(`virtualOutbound: default_filter_chain "${def}" is not PassthroughCluster or BlackHoleCluster`);
  const entries: EgressEntry[] = [];
  type Chain = { name?: string; filter_chain_match?: { destination_port?: { value?: number } | null; server_names?: string[]; prefix_ranges?: { address_prefix?: string; prefix_len?: { value?: number } | null }[] } | null; metadata?: { filter_metadata?: Record<string, { fields?: Record<string, Val> }> } | null };
  for (const c of (l.filter_chains as Chain[] | undefined) ?? []) {
    const m = c.filter_chain_match ?? {};
    const port = Number(m.destination_port?.value ?? 0);
    const host = m.server_names?.[0];
    if (!host || !port) throw new Error(`virtualOutbound: filter chain "${c.name ?? ''}" needs server_names and destination_port`);
    const f = c.metadata?.filter_metadata?.meshfed?.fields ?? {};
    const list = f.endpoints?.listValue;
    entries.push({
      host: host.toLowerCase(), port, serviceEntry: s(f.serviceEntry), resolution: s(f.resolution) || 'NONE',
      endpoints: (list?.values ?? []).map(s).filter(Boolean),
      addresses: (m.prefix_ranges ?? []).map((r) => ({ prefix: r.address_prefix ?? '', len: Number(r.prefix_len?.value ?? 32) })),
    });
  }
  return { mode: def === 'BlackHoleCluster' ? 'REGISTRY_ONLY' : 'ALLOW_ANY', entries };
}

function hostMatches(pattern: string, host: string): boolean {
  return pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) : pattern === host;
}

function inAddresses(e: EgressEntry, host: string): boolean {
  const fam = isIP(host);
  if (!fam || e.addresses.length === 0) return false;
  const bl = new BlockList();
  for (const a of e.addresses) if (isIP(a.prefix) === fam) bl.addSubnet(a.prefix, a.len, fam === 4 ? 'ipv4' : 'ipv6');
  return bl.check(host, fam === 4 ? 'ipv4' : 'ipv6');
}

/** `host:port` is not a mesh service: where may it go? `rr` picks among a ServiceEntry's endpoints. */
export function decideEgress(p: EgressPolicy, host: string, port: number, rr = 0): EgressDecision {
  const h = host.toLowerCase();
  const e = p.entries.find((x) => x.port === port && (hostMatches(x.host, h) || inAddresses(x, h)));
  if (e) {
    if (e.endpoints.length > 0) {
      const ep = e.endpoints[rr % e.endpoints.length]!;
      const i = ep.lastIndexOf(':');
      return { kind: 'service_entry', host: ep.slice(0, i), port: Number(ep.slice(i + 1)), serviceEntry: e.serviceEntry };
    }
    return { kind: 'service_entry', host: h, port, serviceEntry: e.serviceEntry };
  }
  return p.mode === 'ALLOW_ANY' ? { kind: 'passthrough', host: h, port } : { kind: 'refused' };
}
