// Pilot's snapshot cache: the mesh snapshot and the traffic policy, resolved into encoded xDS resources for a node,
// with a content version per subscription. Nodes of one class (role, network, locality, and labels only where a
// DestinationRule ranks endpoints by them) get the same resources for the same names, so a resource is translated
// and encoded once per class and reused until its service object changes. No gRPC: the ADS server pulls from here
// through the AdsCache interface (src/pilot/ads.ts).
import { createHash } from 'node:crypto';
import { createLogger } from '../log.ts';
import { emptySnapshot, type MeshService, type MeshSnapshot } from '../mesh/types.ts';
import { packAny, TYPE_URL, type AnyMessage } from '../xds/protos.ts';
import type { AdsCache, Resolved, ResolvedResource } from './ads.ts';
import type { ProxyNode } from './node.ts';
import { NO_POLICY, type CompiledPolicy } from './policy.ts';
import { NO_SECURITY, securityClassKey, securityResource, type CompiledSecurity } from '../security/pilotResources.ts';
import { allClusterNames, allListenerNames, serviceForName, translate, type Resource } from './translate.ts';

export interface SnapshotCacheOptions {
  /** operator hook: adjust a generated resource (plain object) before it is encoded and sent */
  override?: (typeUrl: string, name: string, resource: Resource) => Resource;
}

interface Entry {
  /** node class + type of the key */
  cls: string;
  svc: MeshService | undefined;
  any: AnyMessage | undefined;
  hash: string;
}

/** Nodes of one class and type get the same resources for the same names (the cache and a push round share them). */
export function nodeClass(node: ProxyNode, typeUrl: string, labelled: boolean): string {
  // a DestinationRule failoverPriority can rank EDS endpoints by the client's labels and cluster: only then do they
  // split the class (sharing resources between nodes is what keeps a push to many streams cheap)
  const extra = labelled && typeUrl === TYPE_URL.endpoint ? `${node.cluster}|${JSON.stringify(Object.entries(node.labels ?? {}).sort())}` : '';
  // a sidecar's inbound listener (authorization) depends on its namespace and labels
  return `${node.role}|${node.network}|${node.locality.region}|${node.locality.zone}|${node.locality.subZone}|${typeUrl}|${extra}|${securityClassKey(node, typeUrl)}`;
}

/** Some DestinationRule ranks endpoints by the client's labels (failoverPriority): EDS then depends on them. */
function usesClientLabels(policy: CompiledPolicy): boolean {
  return [...policy.destinationRules.values()].some((d) =>
    [d.spec.trafficPolicy, ...(d.spec.subsets ?? []).map((x) => x.trafficPolicy)].some((tp) => (tp?.loadBalancer?.localityLbSetting?.failoverPriority?.length ?? 0) > 0));
}

export class SnapshotCache implements AdsCache {
  private readonly log = createLogger('pilot');
  private snap: MeshSnapshot = emptySnapshot();
  private pol: CompiledPolicy = NO_POLICY;
  /** AuthorizationPolicy/PeerAuthentication → the sidecars' inbound listener (src/security/) */
  private sec: CompiledSecurity = NO_SECURITY;
  private labelled = false;
  /** node class + type + name → entry; valid while its service object (and the global part) is unchanged */
  private entries = new Map<string, Entry>();
  /** the global part (gateways, failover, domain, policy) the entries were built for */
  private entriesFor?: string;
  /** during a batch: node class + subscription → resolved, shared by every stream of that class */
  private memo: Map<string, Resolved> | undefined;

  constructor(private readonly opts: SnapshotCacheOptions = {}) {}

  get snapshot(): MeshSnapshot {
    return this.snap;
  }

  setSnapshot(snapshot: MeshSnapshot): void {
    this.snap = snapshot;
  }

  /** Replace the traffic policy. Returns false when it is the version already in use (nothing to push). */
  setPolicy(policy: CompiledPolicy): boolean {
    if (policy.version === this.pol.version) return false;
    this.pol = policy;
    this.labelled = usesClientLabels(policy);
    return true;
  }

  /** Replace the security policy. Returns false when it is the version already in use (nothing to push). */
  setSecurity(security: CompiledSecurity): boolean {
    if (security.version === this.sec.version) return false;
    this.sec = security;
    return true;
  }

  batch<T>(fn: () => T): T {
    const outer = this.memo;
    this.memo ??= new Map();
    try {
      return fn();
    } finally {
      this.memo = outer;
    }
  }

  resolve(node: ProxyNode, typeUrl: string, names: readonly string[], wildcard: boolean): Resolved {
    const cls = nodeClass(node, typeUrl, this.labelled);
    if (!this.memo) return this.build(node, cls, typeUrl, names, wildcard);
    const key = `${cls}${wildcard ? '*' : names.join('\n')}`;
    let r = this.memo.get(key);
    if (!r) this.memo.set(key, (r = this.build(node, cls, typeUrl, names, wildcard)));
    return r;
  }

  private build(node: ProxyNode, cls: string, typeUrl: string, names: readonly string[], wildcard: boolean): Resolved {
    const snap = this.snap;
    // gateways/failover/domain affect every resource: compare by content (snapshots are rebuilt, not mutated)
    const global = JSON.stringify([snap.gateways, snap.failover, snap.domainSuffix, this.pol.version, this.sec.version]);
    if (this.entriesFor !== global) {
      this.entries = new Map();
      this.entriesFor = global;
    }
    const wanted = wildcard ? (typeUrl === TYPE_URL.listener ? (node.role === 'gateway' ? [] : allListenerNames(snap)) : allClusterNames(snap, node, this.pol)) : names;
    const resources: ResolvedResource[] = [];
    const h = createHash('sha256');
    for (const name of wanted) {
      const svc = serviceForName(snap, node, typeUrl, name, this.pol);
      let e = this.entries.get(cls + name);
      if (!e || e.svc !== svc) {
        const sec = securityResource(typeUrl, name, node, this.sec);
        const t = sec ? undefined : translate(snap, node, typeUrl, [name], false, this.pol);
        for (const w of t?.warnings ?? []) this.log.debug({ node: node.id, type: typeUrl }, w);
        const gen = sec ?? t?.resources.get(name);
        const r = gen && this.opts.override ? this.opts.override(typeUrl, name, gen) : gen;
        const any = r ? packAny(typeUrl, r) : undefined;
        e = { cls, svc, any, hash: any ? createHash('sha256').update(any.value).digest('hex') : '' };
        this.entries.set(cls + name, e);
      }
      if (e.any) {
        resources.push({ name, any: e.any, hash: e.hash });
        h.update(name).update(e.hash);
      }
    }
    return { resources, version: h.digest('hex').slice(0, 16) };
  }

  /**
   * Drops entries whose service left the snapshot or was replaced (a replaced service's entries would be rebuilt
   * on next use anyway), entries for names that matched nothing, and entries of node classes no subscription has,
   * so the cache tracks the live mesh and the connected proxies.
   */
  sweep(subscriptions: Iterable<{ node: ProxyNode; typeUrl: string }>): void {
    const live = new Set<MeshService>(this.snap.services.values());
    const classes = new Set<string>();
    for (const s of subscriptions) classes.add(nodeClass(s.node, s.typeUrl, this.labelled));
    for (const [k, e] of this.entries) if (!e.svc || !live.has(e.svc) || !classes.has(e.cls)) this.entries.delete(k);
  }

  /** Entries held (it must shrink when services or node classes go away). */
  size(): number {
    return this.entries.size;
  }
}
