// Snapshot + node + requested names → xDS resources (plain objects, snake_case as in Envoy's protos). Pure.
import type { Endpoint, Gateway, Locality, MeshService, MeshSnapshot, ServicePort } from '../mesh/types.ts';
import { gatewaySni, outboundClusterName, parseGatewaySni, parseOutboundClusterName, PORTS } from '../mesh/names.ts';
import { packAny, TYPE_URL } from '../xds/protos.ts';
import type { ProxyNode } from './node.ts';
import type { Cluster, ClusterLoadAssignment, ConfigSource, Listener, Metadata, RouteConfiguration, Struct } from '../xds/types.ts';
import { localityKey, localityPriorities } from './priority.ts';
import { distributeWeights, failoverRank, withTopologyLabels } from './localityLb.ts';
import type { LocalityLbSetting } from '../policy/types.ts';
import { failoverWithPolicy, localityLbSettingOf, NO_POLICY, subsetOf, type CompiledPolicy } from './policy.ts';
import { clusterPolicyFields, filterBySubset, translateRoutes } from '../policy/translate.ts';
import { oneEntryPerAddress } from './uniqueAddresses.ts';

/** an xDS resource as pilot builds it: the compiler checks its fields against Envoy's protos (src/xds/types.ts) */
export type Resource = Cluster | ClusterLoadAssignment | Listener | RouteConfiguration;

export interface Translation {
  resources: Map<string, Resource>;
  /** human notes: names that matched nothing, endpoints dropped for lack of a gateway */
  warnings: string[];
}

/** Finds the service a client names as FQDN, `<name>.<ns>.svc` or `<name>.<ns>`. */
export function findService(snapshot: MeshSnapshot, host: string): MeshService | undefined {
  const h = host.toLowerCase();
  const suffix = `.svc.${snapshot.domainSuffix}`;
  let base = h;
  if (base.endsWith(suffix)) base = base.slice(0, -suffix.length);
  else if (base.endsWith('.svc')) base = base.slice(0, -4);
  const parts = base.split('.');
  if (parts.length !== 2) return undefined;
  return snapshot.services.get(`${parts[1]}/${parts[0]}`);
}

function splitHostPort(name: string): { host: string; port: number } | undefined {
  const m = /^(.+):(\d{1,5})$/.exec(name);
  return m ? { host: m[1]!, port: Number(m[2]) } : undefined;
}

function servicePort(svc: MeshService, port: number): ServicePort | undefined {
  return svc.ports.find((p) => p.port === port);
}

/** Every `<host>:<port>` the snapshot serves (for wildcard LDS/RDS). */
export function allListenerNames(snapshot: MeshSnapshot): string[] {
  const out: string[] = [];
  for (const svc of snapshot.services.values()) for (const p of svc.ports) out.push(`${svc.hostname}:${p.port}`);
  return out.sort();
}

export function allClusterNames(snapshot: MeshSnapshot, node: ProxyNode, policy: CompiledPolicy = NO_POLICY): string[] {
  const out: string[] = [];
  for (const svc of snapshot.services.values()) {
    for (const p of svc.ports) {
      const name = node.role === 'gateway' ? gatewaySni : outboundClusterName;
      out.push(name(svc.hostname, p.port));
      // subset clusters for clients, and for the gateway (a sidecar on another network sends the subset's SNI)
      for (const sub of policy.destinationRules.get(svc.hostname)?.spec.subsets ?? []) out.push(name(svc.hostname, p.port, sub.name));
    }
  }
  return out.sort();
}

const ADS_SOURCE: ConfigSource = { ads: {}, resource_api_version: 'V3' };

export function listenerResource(name: string, withFault = false): Listener {
  const router = { name: 'envoy.filters.http.router', typed_config: packAny(TYPE_URL.router, {}) };
  // the fault filter must be in the chain for a route's fault config (VirtualService fault) to apply
  const fault = { name: 'envoy.filters.http.fault', typed_config: packAny(TYPE_URL.fault, {}) };
  const hcm = packAny(TYPE_URL.httpConnectionManager, {
    rds: { config_source: ADS_SOURCE, route_config_name: name },
    http_filters: withFault ? [fault, router] : [router],
  });
  return { name, api_listener: { api_listener: hcm } };
}

export function routeResource(name: string, host: string, port: number, policy: CompiledPolicy = NO_POLICY): RouteConfiguration {
  const vs = policy.virtualServices.get(host);
  const hashHeaders = new Map<string, string>();
  for (const [h, dr] of policy.destinationRules) {
    const header = dr.spec.trafficPolicy?.loadBalancer?.consistentHash?.httpHeaderName;
    if (header) hashHeaders.set(h, header);
  }
  const routes = vs ? translateRoutes(vs, port, hashHeaders) : [{ match: { prefix: '' }, route: { cluster: outboundClusterName(host, port), ...(hashHeaders.get(host) ? { hash_policy: [{ header: { header_name: hashHeaders.get(host)!.toLowerCase() } }] } : {}) } }];
  return { name, virtual_hosts: [{ name, domains: [...new Set([name, host])], routes }] };
}

function hasFault(policy: CompiledPolicy, host: string): boolean {
  return (policy.virtualServices.get(host)?.spec.http ?? []).some((r) => r.fault);
}

export function clusterResource(name: string): Cluster {
  return {
    name,
    type: 'EDS',
    eds_cluster_config: { eds_config: ADS_SOURCE, service_name: name },
    lb_policy: 'ROUND_ROBIN',
    connect_timeout: { seconds: 5 },
    outlier_detection: {
      consecutive_5xx: { value: 5 },
      interval: { seconds: 10 },
      base_ejection_time: { seconds: 30 },
      max_ejection_percent: { value: 100 },
      // as Istio: consecutive errors only. Left unset, grpc-js 1.14 runs success-rate ejection with
      // minimum_hosts undefined and crashes the client on its first check (Reduce of empty array).
      enforcing_success_rate: { value: 0 },
    },
  };
}

function struct(obj: Record<string, string | boolean>): Struct {
  const fields: Record<string, unknown> = {};
  // google.protobuf.Struct is encoded and decoded with protobufjs' camelCase field names (stringValue, boolValue): a
  // string_value would be silently dropped on the wire, and the proxies read stringValue only
  for (const [k, v] of Object.entries(obj)) fields[k] = typeof v === 'boolean' ? { boolValue: v } : { stringValue: v };
  // the camelCase names are not in the generated (keepCase) type: the cast is the one place that knows them
  return { fields } as Struct;
}

interface LbEndpoint {
  locality: Locality;
  address: string;
  port: number;
  weight: number;
  /** failoverPriority rank (0 without failoverPriority) */
  rank: number;
  metadata?: Metadata;
}

/** Where a proxy of this role reaches an in-network endpoint, or undefined if it must not. */
function localTarget(node: ProxyNode, ep: Endpoint, sp: ServicePort): number | undefined {
  const target = ep.ports[sp.name] ?? sp.port;
  if (node.role === 'proxyless') return target;
  if (ep.tlsMode === 'istio') return ep.inboundPort ?? PORTS.sidecarInbound;
  return node.role === 'gateway' ? undefined : target;
}

export function endpointResource(
  snapshot: MeshSnapshot,
  node: ProxyNode,
  name: string,
  svc: MeshService,
  sp: ServicePort,
  warnings: string[],
  lbSetting?: LocalityLbSetting,
): ClusterLoadAssignment {
  // endpoint metadata is read by sidecars (tlsMode) and Envoy; proxyless gRPC clients and the gateway ignore it, and
  // two Structs per endpoint were most of a large ClusterLoadAssignment's encoding time
  const withMeta = node.role === 'sidecar';
  const fpKeys = lbSetting?.enabled === false ? undefined : lbSetting?.failoverPriority;
  const clientLabels = fpKeys?.length ? withTopologyLabels(node.labels ?? {}, node.locality, node.network, node.cluster) : {};
  const rankOf = (ep: Endpoint): number => (fpKeys?.length ? failoverRank(fpKeys, withTopologyLabels(ep.labels, ep.locality, ep.network, ep.cluster), clientLabels) : 0);
  const lbs: LbEndpoint[] = [];
  const remote = new Map<string, { gw: Gateway; locality: Locality; count: number; cluster: string; rank: number }>();
  for (const ep of svc.endpoints) {
    if (!ep.ready) continue;
    const local = !node.network || ep.network === node.network;
    if (local) {
      const port = localTarget(node, ep, sp);
      if (port === undefined) continue;
      lbs.push({
        locality: ep.locality,
        address: ep.address,
        port,
        weight: 1,
        rank: rankOf(ep),
        // app_port: the workload's own port for this service port (the EndpointSlice port), which the endpoint's
        // sidecar inbound forwards to when a caller's SNI names this service and port
        ...(withMeta ? { metadata: { filter_metadata: { istio: struct({ tlsMode: ep.tlsMode }), meshfed: struct({ cluster: ep.cluster, network: ep.network, app_port: String(ep.ports[sp.name] ?? sp.port) }) } } } : {}),
      });
      continue;
    }
    if (node.role === 'gateway') continue;
    const gw = snapshot.gateways.find((g) => g.network === ep.network);
    if (!gw) {
      warnings.push(`${name}: endpoint ${ep.address} (cluster ${ep.cluster}) on network ${ep.network} dropped: no east-west gateway for that network`);
      continue;
    }
    const rank = rankOf(ep);
    const key = `${ep.network}|${localityKey(ep.locality)}|${rank}`;
    const r = remote.get(key);
    if (r) r.count++;
    else remote.set(key, { gw, locality: ep.locality, count: 1, cluster: ep.cluster, rank });
  }
  for (const r of remote.values())
    lbs.push({
      locality: r.locality,
      address: r.gw.address,
      port: r.gw.port || PORTS.eastWestGateway,
      weight: r.count,
      rank: r.rank,
      ...(withMeta ? { metadata: { filter_metadata: { istio: struct({ tlsMode: 'istio' }), meshfed: struct({ cluster: r.gw.cluster ?? r.cluster, network: r.gw.network, gateway: true }) } } } : {}),
    });
  // one LocalityLbEndpoints per locality and failoverPriority rank (a locality may appear at two priorities)
  const groups = new Map<string, LbEndpoint[]>();
  for (const lb of lbs) {
    const k = `${localityKey(lb.locality)}|${lb.rank}`;
    const list = groups.get(k);
    if (list) list.push(lb);
    else groups.set(k, [lb]);
  }
  const entries = [...groups.entries()].map(([k, list]) => ({ k, list, loc: localityKey(list[0]!.locality), rank: list[0]!.rank }));
  const distributed = distributeWeights(lbSetting, node.locality, [...new Map(entries.map((e) => [e.loc, e.list[0]!.locality])).entries()].map(([key, locality]) => ({
    key, locality, count: entries.filter((e) => e.loc === key).reduce((s, e) => s + e.list.reduce((n, l) => n + l.weight, 0), 0),
  })));
  // priority: failoverPriority rank first, then the locality order (same zone, same region, failover regions)
  const prio = localityPriorities(node.locality, entries.map((e) => e.list[0]!.locality), snapshot.failover);
  const tuples = [...new Set(entries.map((e) => `${e.rank},${prio.get(e.loc)!}`))].sort((a, b) => {
    const [ra, pa] = a.split(',').map(Number) as [number, number];
    const [rb, pb] = b.split(',').map(Number) as [number, number];
    return ra - rb || pa - pb;
  });
  const priorityOf = (e: (typeof entries)[number]): number => (distributed ? 0 : tuples.indexOf(`${e.rank},${prio.get(e.loc)!}`));
  const locWeight = (e: (typeof entries)[number]): number => {
    const own = e.list.reduce((s, l) => s + l.weight, 0);
    if (!distributed) return own;
    // a locality's distribute weight, shared by its rank groups in proportion to their endpoints
    const all = entries.filter((x) => x.loc === e.loc).reduce((s, x) => s + x.list.reduce((n, l) => n + l.weight, 0), 0);
    return Math.max(1, Math.round((distributed.get(e.loc)! * own) / all));
  };
  const endpoints = entries
    .filter((e) => !distributed || distributed.has(e.loc))
    .sort((a, b) => priorityOf(a) - priorityOf(b) || a.k.localeCompare(b.k))
    .map((e) => ({
      locality: { region: e.list[0]!.locality.region, zone: e.list[0]!.locality.zone, sub_zone: e.list[0]!.locality.subZone },
      priority: priorityOf(e),
      load_balancing_weight: { value: locWeight(e) },
      lb_endpoints: e.list
        .sort((a, b) => a.address.localeCompare(b.address) || a.port - b.port)
        .map((l) => ({
          endpoint: { address: { socket_address: { address: l.address, port_value: l.port } } },
          health_status: 'HEALTHY' as const,
          load_balancing_weight: { value: l.weight },
          ...(l.metadata ? { metadata: l.metadata } : {}),
        })),
    }));
  // proxyless gRPC clients reject a CLA that lists an address twice (one gateway entry per remote locality does):
  // they get one entry per gateway, at the best priority of the localities behind it, weighted by all of them
  return { cluster_name: name, endpoints: compactPriorities(node.role === 'proxyless' ? oneEntryPerAddress(endpoints) : endpoints) };
}

/** Priorities contiguous from 0 (gRPC clients reject gaps), keeping their order. */
function compactPriorities<E extends { priority: number }>(eps: E[]): E[] {
  const used = [...new Set(eps.map((e) => e.priority))].sort((a, b) => a - b);
  return eps.map((e) => ({ ...e, priority: used.indexOf(e.priority) }));
}

function resolveCluster(snapshot: MeshSnapshot, node: ProxyNode, name: string, policy: CompiledPolicy = NO_POLICY): { svc: MeshService; sp: ServicePort; subset: string } | undefined {
  const parsed = node.role === 'gateway' ? parseGatewaySni(name) : parseOutboundClusterName(name);
  if (!parsed) return undefined;
  const svc = findService(snapshot, parsed.host);
  const sp = svc && servicePort(svc, parsed.port);
  if (!svc || !sp) return undefined;
  // a subset cluster exists only while a DestinationRule defines that subset
  if (parsed.subset !== '' && !subsetOf(policy, svc.hostname, parsed.subset)) return undefined;
  return { svc, sp, subset: parsed.subset };
}

/** CDS for a client: the default cluster plus traffic policy (DestinationRule, subset overrides). */
function policyCluster(name: string, node: ProxyNode, host: string, subset: string, policy: CompiledPolicy): Resource {
  const dr = policy.destinationRules.get(host);
  if (!dr || node.role === 'gateway') return clusterResource(name);
  const sub = subset ? subsetOf(policy, host, subset) : undefined;
  const fields = { ...clusterResource(name), ...clusterPolicyFields({ ...dr.spec.trafficPolicy, ...sub?.trafficPolicy }, node.role === 'proxyless') };
  // DestinationRule distribute = EDS locality weights; Envoy (and the meshfed sidecar) honor them only with
  // locality-weighted lb on the cluster, as Istio sets it (gRPC clients always weight localities)
  const setting = localityLbSettingOf(policy, host, subset);
  if (node.role !== 'proxyless' && setting?.enabled !== false && setting?.distribute?.length) return { ...fields, common_lb_config: { locality_weighted_lb_config: {} } };
  return fields;
}

/**
 * Resources of one type for a node. `names` empty = wildcard (all of that type the role may see; proxyless
 * clients always name what they want, so an empty list gives them nothing for LDS/CDS unless wildcard is set).
 */
export function translate(snapshot: MeshSnapshot, node: ProxyNode, typeUrl: string, names: readonly string[], wildcard = false, policy: CompiledPolicy = NO_POLICY): Translation {
  const resources = new Map<string, Resource>();
  const warnings: string[] = [];
  const isGw = node.role === 'gateway';
  if (typeUrl === TYPE_URL.listener || typeUrl === TYPE_URL.route) {
    if (isGw) return { resources, warnings };
    const wanted = wildcard ? allListenerNames(snapshot) : names;
    for (const name of wanted) {
      const hp = splitHostPort(name);
      const svc = hp && findService(snapshot, hp.host);
      if (!hp || !svc || !servicePort(svc, hp.port)) {
        warnings.push(`${name}: no such service port in the mesh`);
        continue;
      }
      resources.set(name, typeUrl === TYPE_URL.listener ? listenerResource(name, hasFault(policy, svc.hostname)) : routeResource(name, svc.hostname, hp.port, policy));
    }
  } else if (typeUrl === TYPE_URL.cluster || typeUrl === TYPE_URL.endpoint) {
    const wanted = wildcard ? allClusterNames(snapshot, node, policy) : names;
    for (const name of wanted) {
      const r = resolveCluster(snapshot, node, name, policy);
      if (!r) {
        warnings.push(`${name}: no such cluster for a ${node.role}`);
        continue;
      }
      if (typeUrl === TYPE_URL.cluster) {
        resources.set(name, policyCluster(name, node, r.svc.hostname, r.subset, policy));
        continue;
      }
      const sub = r.subset ? subsetOf(policy, r.svc.hostname, r.subset) : undefined;
      const svc = sub ? { ...r.svc, endpoints: filterBySubset(r.svc.endpoints as Endpoint[], sub) } : r.svc;
      // DestinationRule localityLbSetting.failover reorders the failover regions for this client (src/pilot/policy.ts)
      const failover = failoverWithPolicy(snapshot.failover, policy, r.svc.hostname, r.subset, node.locality.region);
      resources.set(name, endpointResource(failover === snapshot.failover ? snapshot : { ...snapshot, failover }, node, name, svc, r.sp, warnings, localityLbSettingOf(policy, r.svc.hostname, r.subset)));
    }
  }
  return { resources, warnings };
}

/** The service a resource name of this type refers to for this node (for caching), or undefined. */
export function serviceForName(snapshot: MeshSnapshot, node: ProxyNode, typeUrl: string, name: string, policy: CompiledPolicy = NO_POLICY): MeshService | undefined {
  if (typeUrl === TYPE_URL.listener || typeUrl === TYPE_URL.route) {
    const hp = splitHostPort(name);
    return hp && findService(snapshot, hp.host);
  }
  return resolveCluster(snapshot, node, name, policy)?.svc;
}
