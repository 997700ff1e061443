// Parse and validate a playground topology (clusters/playground.yaml). Pure: text in, Topology or error lines out.
import { parse } from 'yaml';

export interface TopologyCluster {
  name: string;
  region: string;
  zones: string[];
  network: string;
  podCIDR: string;
  serviceCIDR: string;
}

export interface TopologyGateway { network: string; region: string; cluster: string; address: string }

export interface Topology {
  trustDomain: string;
  domainSuffix: string;
  controlPlane: string;
  failover: Record<string, string[]>;
  clusters: TopologyCluster[];
  gateways: TopologyGateway[];
}

export class TopologyError extends Error {
  constructor(readonly source: string, readonly problems: string[]) {
    super(`${source}: invalid topology:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function parseIpv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const o = m.slice(1).map(Number);
  if (o.some((x) => x > 255) || m.slice(1).some((x) => x.length > 1 && x.startsWith('0'))) return undefined;
  return ((o[0] << 24) >>> 0) + (o[1] << 16) + (o[2] << 8) + o[3];
}

/** "a.b.c.d/n" → [first, last] (inclusive), or an error string. Host bits must be zero, as Kubernetes requires. */
export function parseCidr(s: string): { first: number; last: number } | string {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(s);
  if (!m) return `"${s}" is not a CIDR (want a.b.c.d/n)`;
  const ip = parseIpv4(m[1]);
  const bits = Number(m[2]);
  if (ip === undefined) return `"${m[1]}" is not an IPv4 address`;
  if (bits > 32) return `prefix length ${bits} is more than 32`;
  const size = 2 ** (32 - bits);
  if (ip % size !== 0) return `"${s}" has host bits set`;
  return { first: ip, last: ip + size - 1 };
}

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

export function validateTopology(doc: unknown): { topology?: Topology; problems: string[] } {
  const p: string[] = [];
  if (!isObj(doc)) return { problems: ['the file must be a YAML mapping with a "clusters" list'] };
  const str = (v: unknown, field: string, re?: RegExp): string => {
    if (typeof v !== 'string' || v === '') { p.push(`${field}: required string is missing`); return ''; }
    if (re && !re.test(v)) p.push(`${field}: "${v}" must be a lowercase DNS-1123 name (a-z, 0-9, "-")`);
    return v;
  };
  const trustDomain = doc.trustDomain === undefined ? 'cluster.local' : str(doc.trustDomain, 'trustDomain', DNS1123_SUBDOMAIN);
  const domainSuffix = doc.domainSuffix === undefined ? 'cluster.local' : str(doc.domainSuffix, 'domainSuffix', DNS1123_SUBDOMAIN);
  const clusters: TopologyCluster[] = [];
  if (!Array.isArray(doc.clusters) || doc.clusters.length === 0) p.push('clusters: at least one cluster is required');
  else {
    doc.clusters.forEach((c: unknown, i: number) => {
      const f = `clusters[${i}]`;
      if (!isObj(c)) { p.push(`${f}: must be a mapping`); return; }
      const name = str(c.name, `${f}.name`, DNS1123_LABEL);
      const fn = name ? `clusters[${i}] (${name})` : f;
      const zones = Array.isArray(c.zones) ? c.zones : [];
      if (!Array.isArray(c.zones) || zones.length === 0) p.push(`${fn}.zones: at least one zone is required`);
      zones.forEach((z: unknown, j: number) => str(z, `${fn}.zones[${j}]`, DNS1123_SUBDOMAIN));
      if (new Set(zones).size !== zones.length) p.push(`${fn}.zones: zone names repeat`);
      clusters.push({
        name,
        region: str(c.region, `${fn}.region`, DNS1123_SUBDOMAIN),
        zones: zones.map(String),
        network: str(c.network, `${fn}.network`, DNS1123_SUBDOMAIN),
        podCIDR: str(c.podCIDR, `${fn}.podCIDR`),
        serviceCIDR: str(c.serviceCIDR, `${fn}.serviceCIDR`),
      });
    });
  }
  const seen = new Set<string>();
  for (const c of clusters) {
    if (c.name && seen.has(c.name)) p.push(`clusters: name "${c.name}" is used more than once`);
    seen.add(c.name);
  }
  const ranges: Array<{ field: string; cidr: string; first: number; last: number }> = [];
  clusters.forEach((c, i) => {
    for (const k of ['podCIDR', 'serviceCIDR'] as const) {
      if (!c[k]) continue;
      const field = `clusters[${i}] (${c.name}).${k}`;
      const r = parseCidr(c[k]);
      if (typeof r === 'string') p.push(`${field}: ${r}`);
      else ranges.push({ field, cidr: c[k], ...r });
    }
  });
  for (let a = 0; a < ranges.length; a++) {
    for (let b = a + 1; b < ranges.length; b++) {
      const x = ranges[a], y = ranges[b];
      if (x.first <= y.last && y.first <= x.last) p.push(`${y.field}: ${y.cidr} overlaps ${x.field} ${x.cidr}`);
    }
  }
  const regions = new Set(clusters.map((c) => c.region));
  const networks = new Set(clusters.map((c) => c.network));
  let controlPlane = clusters[0]?.name ?? '';
  if (doc.controlPlane !== undefined) {
    controlPlane = str(doc.controlPlane, 'controlPlane');
    if (controlPlane && !seen.has(controlPlane)) p.push(`controlPlane: "${controlPlane}" is not a cluster in clusters`);
  }
  const failover: Record<string, string[]> = {};
  if (doc.failover !== undefined) {
    if (!isObj(doc.failover)) p.push('failover: must map a region to a list of regions');
    else for (const [from, to] of Object.entries(doc.failover)) {
      if (!regions.has(from)) p.push(`failover.${from}: region "${from}" is not the region of any cluster`);
      if (!Array.isArray(to)) { p.push(`failover.${from}: must be a list of regions`); continue; }
      to.forEach((r: unknown, j: number) => {
        if (typeof r !== 'string' || !regions.has(r)) p.push(`failover.${from}[${j}]: region "${String(r)}" is not the region of any cluster`);
        else if (r === from) p.push(`failover.${from}[${j}]: a region cannot fail over to itself`);
      });
      failover[from] = to.map(String);
    }
  }
  const gateways: TopologyGateway[] = [];
  if (doc.gateways !== undefined && !Array.isArray(doc.gateways)) p.push('gateways: must be a list');
  (Array.isArray(doc.gateways) ? doc.gateways : []).forEach((g: unknown, i: number) => {
    const f = `gateways[${i}]`;
    if (!isObj(g)) { p.push(`${f}: must be a mapping`); return; }
    const gw = { network: str(g.network, `${f}.network`), region: str(g.region, `${f}.region`), cluster: str(g.cluster, `${f}.cluster`), address: str(g.address, `${f}.address`) };
    const cl = clusters.find((c) => c.name === gw.cluster);
    if (gw.cluster && !cl) p.push(`${f}.cluster: "${gw.cluster}" is not a cluster in clusters`);
    if (gw.network && !networks.has(gw.network)) p.push(`${f}.network: "${gw.network}" is not the network of any cluster`);
    if (gw.region && !regions.has(gw.region)) p.push(`${f}.region: "${gw.region}" is not the region of any cluster`);
    if (cl && gw.network && cl.network !== gw.network) p.push(`${f}.network: cluster "${cl.name}" is on network "${cl.network}", not "${gw.network}"`);
    if (gw.address && parseIpv4(gw.address) === undefined) p.push(`${f}.address: "${gw.address}" is not an IPv4 address`);
    gateways.push(gw);
  });
  const gwKeys = new Set<string>();
  for (const g of gateways) {
    const k = `${g.region}/${g.network}`;
    if (gwKeys.has(k)) p.push(`gateways: more than one gateway for region "${g.region}" network "${g.network}"`);
    gwKeys.add(k);
  }
  if (p.length) return { problems: p };
  return { topology: { trustDomain, domainSuffix, controlPlane, failover, clusters, gateways }, problems: [] };
}

/** Parse YAML text; throws TopologyError (one line per problem, each naming the field) on bad input. */
export function parseTopology(text: string, source = 'topology'): Topology {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new TopologyError(source, [`not valid YAML: ${(e as Error).message.split('\n')[0]}`]);
  }
  const r = validateTopology(doc);
  if (!r.topology) throw new TopologyError(source, r.problems);
  return r.topology;
}
