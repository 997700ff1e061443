// The topology file (clusters/playground.yaml): parsed and validated as a pure function of its text.
// The playground, the kind harness and the control plane (failover order) read it.
import { parse } from 'yaml';

export interface TopologyCluster {
  name: string;
  region: string;
  zones: string[];
  network: string;
  podCIDR: string;
  serviceCIDR: string;
  kindPodSubnet?: string;
}

export interface TopologyGateway {
  network: string;
  region: string;
  cluster: string;
  address: string;
}

export interface Topology {
  trustDomain: string;
  domainSuffix: string;
  controlPlane: string;
  failover: Record<string, string[]>;
  clusters: TopologyCluster[];
  gateways: TopologyGateway[];
}

export class TopologyError extends Error {}

const DNS1123 = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** "a.b.c.d/n" → [first, last] as 32-bit numbers, or undefined when malformed. */
export function cidrRange(cidr: string): [number, number] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits > 32) return undefined;
  const ip = ((octets[0]! << 24) >>> 0) + (octets[1]! << 16) + (octets[2]! << 8) + octets[3]!;
  const size = 2 ** (32 - bits);
  const first = Math.floor(ip / size) * size;
  return [first, first + size - 1];
}

export function ipInCidr(ip: string, cidr: string): boolean {
  const r = cidrRange(cidr);
  const i = cidrRange(`${ip}/32`);
  return !!r && !!i && i[0] >= r[0] && i[0] <= r[1];
}

function str(v: unknown, where: string, errors: string[]): string {
  if (typeof v !== 'string' || v === '') {
    errors.push(`${where}: must be a non-empty string`);
    return '';
  }
  return v;
}

/** Parses and validates a topology file's text; throws a TopologyError listing every problem, one per line. */
export function parseTopology(text: string, file = 'topology'): Topology {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new TopologyError(`${file}: not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!doc || typeof doc !== 'object') throw new TopologyError(`${file}: expected a mapping with "clusters"`);
  const d = doc as Record<string, unknown>;
  const errors: string[] = [];
  const rawClusters = Array.isArray(d.clusters) ? (d.clusters as Record<string, unknown>[]) : [];
  if (rawClusters.length === 0) errors.push('clusters: at least one cluster is needed');
  const clusters: TopologyCluster[] = rawClusters.map((c, i) => {
    const at = `clusters[${i}]`;
    const name = str(c?.name, `${at}.name`, errors);
    if (name && !DNS1123.test(name)) errors.push(`${at}.name: "${name}" is not a DNS-1123 label (lower-case letters, digits, "-")`);
    const zones = Array.isArray(c?.zones) ? (c.zones as unknown[]).map((z, j) => str(z, `${at}.zones[${j}]`, errors)) : [];
    if (zones.length === 0) errors.push(`${at}.zones: list at least one zone`);
    const cl: TopologyCluster = {
      name,
      region: str(c?.region, `${at}.region`, errors),
      zones,
      network: str(c?.network, `${at}.network`, errors),
      podCIDR: str(c?.podCIDR, `${at}.podCIDR`, errors),
      serviceCIDR: str(c?.serviceCIDR, `${at}.serviceCIDR`, errors),
      ...(c?.kindPodSubnet !== undefined ? { kindPodSubnet: str(c.kindPodSubnet, `${at}.kindPodSubnet`, errors) } : {}),
    };
    return cl;
  });
  const seen = new Set<string>();
  for (const c of clusters) {
    if (c.name && seen.has(c.name)) errors.push(`clusters: duplicate cluster name "${c.name}"`);
    seen.add(c.name);
  }
  // CIDRs: each valid, none overlapping another (pod, service and kind pod subnets of every cluster)
  const ranges: Array<{ label: string; cidr: string; r: [number, number] }> = [];
  clusters.forEach((c, i) => {
    for (const field of ['podCIDR', 'serviceCIDR', 'kindPodSubnet'] as const) {
      const cidr = c[field];
      if (!cidr) continue;
      const r = cidrRange(cidr);
      if (!r) errors.push(`clusters[${i}].${field}: "${cidr}" is not an IPv4 CIDR like 10.1.0.0/16`);
      else ranges.push({ label: `${c.name}.${field}`, cidr, r });
    }
  });
  for (let a = 0; a < ranges.length; a++)
    for (let b = a + 1; b < ranges.length; b++) {
      const x = ranges[a]!;
      const y = ranges[b]!;
      if (x.r[0] <= y.r[1] && y.r[0] <= x.r[1]) errors.push(`CIDRs overlap: ${x.label} ${x.cidr} and ${y.label} ${y.cidr}`);
    }
  const controlPlane = str(d.controlPlane, 'controlPlane', errors);
  if (controlPlane && !seen.has(controlPlane)) errors.push(`controlPlane: "${controlPlane}" is not one of the clusters`);
  const regions = new Set(clusters.map((c) => c.region));
  const networks = new Set(clusters.map((c) => c.network));
  const failover: Record<string, string[]> = {};
  if (d.failover !== undefined) {
    if (typeof d.failover !== 'object' || d.failover === null) errors.push('failover: must map a region to a list of regions');
    else
      for (const [region, list] of Object.entries(d.failover as Record<string, unknown>)) {
        if (!regions.has(region)) errors.push(`failover.${region}: no cluster is in region "${region}"`);
        if (!Array.isArray(list)) errors.push(`failover.${region}: must be a list of regions`);
        else {
          for (const r of list) if (!regions.has(String(r))) errors.push(`failover.${region}: no cluster is in region "${String(r)}"`);
          failover[region] = list.map(String);
        }
      }
  }
  const rawGateways = Array.isArray(d.gateways) ? (d.gateways as Record<string, unknown>[]) : [];
  const gateways: TopologyGateway[] = rawGateways.map((g, i) => {
    const at = `gateways[${i}]`;
    const gw = { network: str(g?.network, `${at}.network`, errors), region: str(g?.region, `${at}.region`, errors), cluster: str(g?.cluster, `${at}.cluster`, errors), address: str(g?.address, `${at}.address`, errors) };
    const host = clusters.find((c) => c.name === gw.cluster);
    if (gw.cluster && !host) errors.push(`${at}.cluster: "${gw.cluster}" is not one of the clusters`);
    else if (host && (host.network !== gw.network || host.region !== gw.region)) errors.push(`${at}: cluster ${host.name} is in ${host.region}/${host.network}, not ${gw.region}/${gw.network}`);
    if (gw.network && !networks.has(gw.network)) errors.push(`${at}.network: no cluster is on network "${gw.network}"`);
    if (gw.address && !cidrRange(`${gw.address}/32`)) errors.push(`${at}.address: "${gw.address}" is not an IPv4 address`);
    return gw;
  });
  if (errors.length) throw new TopologyError(`${file}: ${errors.length} problem${errors.length > 1 ? 's' : ''}:\n  ${errors.join('\n  ')}`);
  return {
    trustDomain: typeof d.trustDomain === 'string' ? d.trustDomain : 'cluster.local',
    domainSuffix: typeof d.domainSuffix === 'string' ? d.domainSuffix : 'cluster.local',
    controlPlane,
    failover,
    clusters,
    gateways,
  };
}
