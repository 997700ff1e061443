// The ADS server: state-of-the-world xDS over @grpc/grpc-js, per-stream subscriptions, versions, nonces,
// ACK/NACK, make-before-break push order and debounced pushes to the streams whose resources changed.
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import { createLogger } from '../log.ts';
import { NO_POLICY, type CompiledPolicy } from './policy.ts';
import { emptySnapshot, type MeshSnapshot } from '../mesh/types.ts';
import { PORTS } from '../mesh/names.ts';
import { Counter, Gauge, Histogram } from '../observe/metrics.ts';
import type { EventBus } from '../observe/events.ts';
import { adsService, packAny, PUSH_ORDER, type AnyMessage } from '../xds/protos.ts';
import { acceptingEncoded, encodeResponseBody, withNonce } from '../xds/responseEncoding.ts';
import { parseNode, type ProxyNode, type RawNode } from './node.ts';
import { allClusterNames, allListenerNames, serviceForName, translate } from './translate.ts';
import type { MeshService } from '../mesh/types.ts';
import { NO_SECURITY, securityClassKey, securityResource, type CompiledSecurity } from '../security/pilotResources.ts';

interface CacheEntry {
  /** node class + type prefix of the key */
  cls: string;
  svc: MeshService | undefined;
  any: AnyMessage | undefined;
  hash: string;
}

export interface DiscoveryRequest {
  version_info?: string;
  node?: RawNode | null;
  resource_names?: string[];
  type_url?: string;
  response_nonce?: string;
  error_detail?: { code?: number; message?: string } | null;
}

export interface DiscoveryResponse {
  version_info: string;
  resources: AnyMessage[];
  type_url: string;
  nonce: string;
}

export interface TypeStatus {
  names: string[];
  wildcard: boolean;
  versionSent: string;
  versionAcked: string;
  lastNonce: string;
  lastNack?: { nonce: string; message: string; at: string };
}

export interface ProxyStatus {
  nodeId: string;
  role: ProxyNode['role'];
  cluster: string;
  network: string;
  locality: ProxyNode['locality'];
  connectedAt: string;
  /** SPIFFE ID of the verified client certificate, when the stream came over mTLS */
  peerIdentity?: string;
  types: Record<string, TypeStatus>;
}

interface Stream {
  call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse | Buffer>; // Buffer: pre-encoded (src/xds/responseEncoding.ts)
  /** SPIFFE ID of the verified TLS client certificate (mTLS port only) */
  peerIdentity?: string;
  node?: ProxyNode;
  connectedAt: string;
  types: Map<string, TypeStatus & { sent: Map<string, { any: AnyMessage; hash: string }> }>;
}

interface Resolved {
  resources: { name: string; any: AnyMessage; hash: string }[];
  version: string;
}

export interface PilotOptions {
  port?: number;
  host?: string;
  tls?: { key: Buffer | string; cert: Buffer | string; ca: Buffer | string };
  registry?: Registry;
  events?: EventBus;
  debounceMs?: number;
  maxDelayMs?: number;
  /** operator hook: adjust a generated resource (plain object) before it is encoded and sent */
  override?: (typeUrl: string, name: string, resource: Record<string, unknown>) => Record<string, unknown>;
}

/** Nodes of one class and type get the same resources for the same names (the cache and flush share them). */
function nodeClass(node: ProxyNode, type: string, labelled: boolean): string {
  // a DestinationRule failoverPriority can rank EDS endpoints by the client's labels and cluster: only then do they
  // split the class (sharing resources between nodes is what keeps a push to many streams cheap)
  const extra = labelled && type === PUSH_ORDER[1] ? `${node.cluster}|${JSON.stringify(Object.entries(node.labels ?? {}).sort())}` : '';
  return `${node.role}|${node.network}|${node.locality.region}|${node.locality.zone}|${node.locality.subZone}|${type}|${extra}|${securityClassKey(node, type)}`;
}

const WILDCARD_TYPES = new Set<string>([PUSH_ORDER[0], PUSH_ORDER[2]]); // CDS, LDS

export class Pilot {
  private readonly log = createLogger('pilot');
  private server?: grpc.Server;
  private snapshot: MeshSnapshot = emptySnapshot();
  private policy: CompiledPolicy = NO_POLICY;
  /** AuthorizationPolicy/PeerAuthentication: the sidecars' inbound listener (src/security/) */
  private security: CompiledSecurity = NO_SECURITY;
  /** some DestinationRule uses failoverPriority: EDS depends on the client's labels and cluster (nodeClass) */
  private labelled = false;
  private readonly streams = new Set<Stream>();
  /** per node class + type + name; an entry is valid while its service object (and gateways/failover) are unchanged */
  private cache = new Map<string, CacheEntry>();
  private cacheFor?: string;
  /** during one flush: node class + type + subscription → resolved resources, shared by every stream of that class */
  private flushMemo?: Map<string, Resolved>;
  /** encoded response bodies by content, shared by the streams of one flush */
  private bodyMemo: Map<string, Buffer> | undefined;
  private nonce = 0;
  private timer?: NodeJS.Timeout;
  private pendingSince = 0;
  private readonly m?: { connected: Gauge; pushes: Counter; latency: Histogram; nacks: Counter };
  port = 0;

  constructor(private readonly opts: PilotOptions = {}) {
    const reg = opts.registry;
    if (reg) {
      this.m = {
        connected: new Gauge({ name: 'meshfed_pilot_connected_proxies', help: 'ADS streams open', registers: [reg] }),
        pushes: new Counter({ name: 'meshfed_pilot_pushes_total', help: 'xDS responses sent', labelNames: ['type'], registers: [reg] }),
        latency: new Histogram({ name: 'meshfed_pilot_push_seconds', help: 'snapshot change to all pushes written', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [reg] }),
        nacks: new Counter({ name: 'meshfed_pilot_nacks_total', help: 'xDS NACKs received', labelNames: ['type'], registers: [reg] }),
      };
    }
  }

  async start(): Promise<number> {
    const server = new grpc.Server();
    this.addTo(server, { requirePeerCert: false });
    const creds = this.opts.tls
      ? grpc.ServerCredentials.createSsl(Buffer.from(this.opts.tls.ca), [{ private_key: Buffer.from(this.opts.tls.key), cert_chain: Buffer.from(this.opts.tls.cert) }], true)
      : grpc.ServerCredentials.createInsecure();
    const addr = `${this.opts.host ?? '0.0.0.0'}:${this.opts.port ?? PORTS.xdsPlaintext}`;
    this.port = await new Promise<number>((res, rej) => server.bindAsync(addr, creds, (e, p) => (e ? rej(new Error(`pilot: cannot listen on ${addr}: ${e.message}`)) : res(p))));
    this.server = server;
    this.log.info({ port: this.port, tls: !!this.opts.tls }, 'ADS server listening');
    return this.port;
  }

  /**
   * Serve ADS on a server someone else owns (the control plane's shared TLS server on 15012). With requirePeerCert,
   * a stream whose peer did not present a certificate verified by the server's CA is refused (UNAUTHENTICATED).
   */
  addTo(server: grpc.Server, o: { requirePeerCert: boolean }): void {
    server.addService(acceptingEncoded(adsService().service), {
      StreamAggregatedResources: (call: Stream['call']) => {
        const peer = call.getAuthContext?.()?.sslPeerCertificate;
        if (o.requirePeerCert && !peer) {
          this.log.info({ peer: call.getPeer() }, 'refused an xDS stream without a verified client certificate');
          call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: 'xDS over TLS needs a client certificate issued by the mesh CA (or use the plaintext port)' });
          return;
        }
        const uri = /URI:(spiffe:\/\/[^,\s]+)/.exec(peer?.subjectaltname ?? '')?.[1];
        this.onStream(call, uri);
      },
    });
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const s of this.streams) s.call.end();
    this.streams.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((res) => server.tryShutdown(() => res()));
  }

  /** Replace the traffic policy (accepted VirtualServices/DestinationRules, FQDN hosts); pushed like a snapshot change. */
  setPolicy(policy: CompiledPolicy): void {
    if (policy.version === this.policy.version) return;
    this.policy = policy;
    this.labelled = [...policy.destinationRules.values()].some((d) =>
      [d.spec.trafficPolicy, ...(d.spec.subsets ?? []).map((x) => x.trafficPolicy)].some((tp) => (tp?.loadBalancer?.localityLbSetting?.failoverPriority?.length ?? 0) > 0));
    this.setSnapshot(this.snapshot);
  }

  /** Replace the security policy (accepted AuthorizationPolicies/PeerAuthentications); pushed like a snapshot change. */
  setSecurity(security: CompiledSecurity): void {
    if (security.version === this.security.version) return;
    this.security = security;
    this.setSnapshot(this.snapshot);
  }

  /** Replace the mesh; pushes are debounced (window debounceMs, at most maxDelayMs after the first change). */
  setSnapshot(snapshot: MeshSnapshot): void {
    this.snapshot = snapshot;
    const now = Date.now();
    if (!this.pendingSince) this.pendingSince = now;
    if (this.timer) clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(this.opts.debounceMs ?? 20, this.pendingSince + (this.opts.maxDelayMs ?? 200) - now));
    this.timer = setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    const started = this.pendingSince;
    this.timer = undefined;
    this.pendingSince = 0;
    let pushed = 0;
    this.flushMemo = new Map();
    this.bodyMemo = new Map();
    try {
      for (const s of this.streams) {
        if (!s.node) continue;
        for (const t of PUSH_ORDER) if (s.types.has(t) && this.push(s, t, false)) pushed++;
      }
    } finally {
      this.flushMemo = undefined;
      this.bodyMemo = undefined;
    }
    this.sweepCache();
    const secs = (Date.now() - started) / 1000;
    this.m?.latency.observe(secs);
    if (pushed > 0) this.opts.events?.publish('push.done', `snapshot ${this.snapshot.version}: ${pushed} responses pushed`, { version: this.snapshot.version, pushed, seconds: secs });
  }

  private onStream(call: Stream['call'], peerIdentity?: string): void {
    const s: Stream = { call, connectedAt: new Date().toISOString(), types: new Map(), ...(peerIdentity ? { peerIdentity } : {}) };
    this.streams.add(s);
    this.m?.connected.inc();
    call.on('data', (req: DiscoveryRequest) => {
      try {
        this.onRequest(s, req);
      } catch (e) {
        this.log.error({ err: e, node: s.node?.id }, 'failed to answer an xDS request');
      }
    });
    const done = () => {
      if (!this.streams.delete(s)) return;
      this.m?.connected.dec();
      if (s.node) this.opts.events?.publish('proxy.disconnected', `${s.node.id} disconnected`, { node: s.node.id });
    };
    call.on('end', () => {
      done();
      call.end();
    });
    call.on('error', done);
    call.on('close', done);
  }

  private onRequest(s: Stream, req: DiscoveryRequest): void {
    if (!s.node) {
      if (!req.node?.id) {
        s.call.destroy(new Error('first DiscoveryRequest must carry node.id'));
        return;
      }
      s.node = parseNode(req.node);
      this.log.info({ node: s.node }, 'proxy connected');
      this.opts.events?.publish('proxy.connected', `${s.node.id} (${s.node.role}) connected`, { node: s.node.id, role: s.node.role, cluster: s.node.cluster });
    }
    const type = req.type_url ?? '';
    const names = [...(req.resource_names ?? [])].sort();
    let st = s.types.get(type);
    const first = !st;
    if (!st) {
      st = { names: [], wildcard: names.length === 0 && WILDCARD_TYPES.has(type) && s.node.role !== 'proxyless', versionSent: '', versionAcked: '', lastNonce: '', sent: new Map() };
      s.types.set(type, st);
    }
    const nonce = req.response_nonce ?? '';
    if (nonce && nonce !== st.lastNonce) return; // stale: answers an older response
    if (nonce && req.error_detail && (req.error_detail.message || req.error_detail.code)) {
      const message = req.error_detail.message ?? `code ${req.error_detail.code}`;
      st.lastNack = { nonce, message, at: new Date().toISOString() };
      this.m?.nacks.inc({ type });
      this.log.warn({ node: s.node.id, type, nonce, message, keptVersion: st.versionAcked }, 'proxy rejected configuration (NACK)');
      this.opts.events?.publish('proxy.nack', `${s.node.id} rejected ${type}: ${message}`, { node: s.node.id, type, message });
    } else if (nonce) {
      st.versionAcked = req.version_info ?? st.versionSent;
    }
    const changed = first || (!st.wildcard && names.join('\n') !== st.names.join('\n'));
    if (!st.wildcard) st.names = names;
    if (changed) this.push(s, type, true);
  }

  /**
   * Drops cache entries whose service left the snapshot or was replaced (a replaced service's entries would be
   * rebuilt on next use anyway), entries for names that matched nothing, and entries of node classes no open
   * stream has, so the cache tracks the live mesh and the connected proxies.
   */
  private sweepCache(): void {
    const live = new Set<MeshService>(this.snapshot.services.values());
    const classes = new Set<string>();
    for (const s of this.streams) if (s.node) for (const t of s.types.keys()) classes.add(nodeClass(s.node, t, this.labelled));
    for (const [k, e] of this.cache) if (!e.svc || !live.has(e.svc) || !classes.has(e.cls)) this.cache.delete(k);
  }

  /** ADS streams open (with or without a node yet). */
  connectedStreams(): number {
    return this.streams.size;
  }

  /** Entries in the encoded-resource cache (for tests: it must shrink when services are removed). */
  cacheSize(): number {
    return this.cache.size;
  }

  private resourcesFor(node: ProxyNode, type: string, names: readonly string[], wildcard: boolean): Resolved {
    const cls = nodeClass(node, type, this.labelled);
    if (!this.flushMemo) return this.resolve(node, cls, type, names, wildcard);
    const key = `${cls}${wildcard ? '*' : names.join('\n')}`;
    let r = this.flushMemo.get(key);
    if (!r) this.flushMemo.set(key, (r = this.resolve(node, cls, type, names, wildcard)));
    return r;
  }

  private resolve(node: ProxyNode, cls: string, type: string, names: readonly string[], wildcard: boolean): Resolved {
    const snap = this.snapshot;
    // gateways/failover/domain affect every resource: compare by content (snapshots are rebuilt, not mutated)
    const global = JSON.stringify([snap.gateways, snap.failover, snap.domainSuffix, this.policy.version, this.security.version]);
    if (this.cacheFor !== global) {
      this.cache = new Map();
      this.cacheFor = global;
    }
    const wanted = wildcard ? (type === PUSH_ORDER[2] ? (node.role === 'gateway' ? [] : allListenerNames(snap)) : allClusterNames(snap, node, this.policy)) : names;
    const resources: { name: string; any: AnyMessage; hash: string }[] = [];
    const h = createHash('sha256');
    for (const name of wanted) {
      const svc = serviceForName(snap, node, type, name, this.policy);
      let e = this.cache.get(cls + name);
      if (!e || e.svc !== svc) {
        const sec = securityResource(type, name, node, this.security);
        const t = sec ? undefined : translate(snap, node, type, [name], false, this.policy);
        for (const w of t?.warnings ?? []) this.log.debug({ node: node.id, type }, w);
        const gen = sec ?? t?.resources.get(name);
        const r = gen && this.opts.override ? this.opts.override(type, name, gen) : gen;
        const any = r ? packAny(type, r) : undefined;
        e = { cls, svc, any, hash: any ? createHash('sha256').update(any.value).digest('hex') : '' };
        this.cache.set(cls + name, e);
      }
      if (e.any) {
        resources.push({ name, any: e.any, hash: e.hash });
        h.update(name).update(e.hash);
      }
    }
    return { resources, version: h.digest('hex').slice(0, 16) };
  }

  /** Sends this type if its content changed (or always, when force). Returns whether it sent. */
  private push(s: Stream, type: string, force: boolean): boolean {
    const st = s.types.get(type)!;
    const { resources, version } = this.resourcesFor(s.node!, type, st.names, st.wildcard);
    if (!force && version === st.versionSent) return false;
    // LDS/CDS responses carry the whole set; RDS/EDS may carry only what changed (xDS SotW rules).
    const incremental = !force && (type === PUSH_ORDER[1] || type === PUSH_ORDER[3]);
    const out = incremental ? resources.filter((r) => st.sent.get(r.name)?.hash !== r.hash) : resources;
    st.versionSent = version;
    st.lastNonce = String(++this.nonce);
    st.sent = new Map(resources.map((r) => [r.name, r]));
    // streams in the same state get the same bytes: encoded once per flush, the nonce appended per stream
    const key = `${type}\n${version}\n${out.map((r) => r.hash).join(',')}`;
    let body = this.bodyMemo?.get(key);
    if (!body) {
      body = encodeResponseBody({ version_info: version, resources: out.map((r) => r.any), type_url: type });
      this.bodyMemo?.set(key, body);
    }
    s.call.write(withNonce(body, st.lastNonce));
    this.m?.pushes.inc({ type: type.slice(type.lastIndexOf('.') + 1) });
    return true;
  }

  syncStatus(): ProxyStatus[] {
    const out: ProxyStatus[] = [];
    for (const s of this.streams) {
      if (!s.node) continue;
      const types: Record<string, TypeStatus> = {};
      for (const [t, st] of s.types) types[t] = { names: st.names, wildcard: st.wildcard, versionSent: st.versionSent, versionAcked: st.versionAcked, lastNonce: st.lastNonce, ...(st.lastNack ? { lastNack: st.lastNack } : {}) };
      out.push({ nodeId: s.node.id, role: s.node.role, cluster: s.node.cluster, network: s.node.network, locality: s.node.locality, connectedAt: s.connectedAt, ...(s.peerIdentity ? { peerIdentity: s.peerIdentity } : {}), types });
    }
    return out;
  }

  /** What was last sent to a node, per type (Any resources as sent), or undefined if not connected. */
  configDump(nodeId: string): Record<string, AnyMessage[]> | undefined {
    for (const s of this.streams) {
      if (s.node?.id !== nodeId) continue;
      const out: Record<string, AnyMessage[]> = {};
      for (const [t, st] of s.types) out[t] = [...st.sent.values()].map((r) => r.any);
      return out;
    }
    return undefined;
  }
}
