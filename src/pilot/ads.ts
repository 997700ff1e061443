// The ADS server: the State-of-the-World xDS protocol over @grpc/grpc-js, and nothing else. Per stream and type it
// keeps the subscription (names or wildcard), the version sent and acknowledged, and the nonce; it answers
// subscriptions, records ACKs and NACKs, ignores stale requests, and on a snapshot change sends each stream what
// changed for it, in make-before-break order (CDS, EDS, LDS, RDS). What to send comes from an AdsCache
// (src/pilot/cache.ts in production, a fake in tests): this file never translates the mesh.
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { createLogger } from '../log.ts';
import type { EventBus } from '../observe/events.ts';
import { PUSH_ORDER, TYPE_URL, type AnyMessage } from '../xds/protos.ts';
import { adsService } from '../xds/adsService.ts';
import { acceptingEncoded, encodeResponseBody, withNonce } from '../xds/responseEncoding.ts';
import { NO_METRICS, type PilotMetrics } from './metrics.ts';
import { parseNode, type ProxyNode, type RawNode } from './node.ts';

export interface ResolvedResource {
  name: string;
  any: AnyMessage;
  /** content hash of the encoded resource */
  hash: string;
}

/** The resources of one type for one subscription, and their content version (equal content → equal version). */
export interface Resolved {
  resources: readonly ResolvedResource[];
  version: string;
}

/** What the ADS server needs from a cache (go-control-plane's ConfigWatcher, reduced to SotW pulls). */
export interface AdsCache {
  /** The resources a node gets for a subscription: `names`, or every resource of the type when `wildcard`. */
  resolve(node: ProxyNode, typeUrl: string, names: readonly string[], wildcard: boolean): Resolved;
  /** Runs `fn` as one push round: resolutions inside may be shared between streams of the same node class. */
  batch<T>(fn: () => T): T;
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

/** The server side of one ADS stream as grpc-js hands it over (responses may be pre-encoded Buffers). */
export type AdsCall = grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse | Buffer>;

interface TypeState extends TypeStatus {
  /** what the client holds (as far as we know): name → resource */
  sent: Map<string, ResolvedResource>;
}

interface Stream {
  call: AdsCall;
  /** SPIFFE ID of the verified TLS client certificate (mTLS port only) */
  peerIdentity?: string;
  node?: ProxyNode;
  connectedAt: string;
  types: Map<string, TypeState>;
}

export interface AdsServerOptions {
  cache: AdsCache;
  metrics?: PilotMetrics;
  events?: EventBus;
}

/** Types an empty subscription means "all of them" for (Envoy's wildcard); never for proxyless gRPC clients. */
const WILDCARD_TYPES: readonly string[] = [TYPE_URL.cluster, TYPE_URL.listener];
/** Types a push may carry only the changed resources of (SotW lets RDS/EDS responses be partial). */
const PARTIAL_TYPES: readonly string[] = [TYPE_URL.endpoint, TYPE_URL.route];

export class AdsServer {
  private readonly log = createLogger('pilot');
  private readonly streams = new Set<Stream>();
  private readonly metrics: PilotMetrics;
  /** nonces are unique to this server: a client resuming on another replica carries the old replica's nonces */
  private readonly noncePrefix = randomBytes(4).toString('hex');
  private nonce = 0;
  /** encoded response bodies by content, shared by the streams of one push round */
  private bodyMemo: Map<string, Buffer> | undefined;

  constructor(private readonly o: AdsServerOptions) {
    this.metrics = o.metrics ?? NO_METRICS;
  }

  /**
   * Serve ADS on a grpc-js server. With requirePeerCert, a stream whose peer did not present a certificate
   * verified by the server's CA is refused (UNAUTHENTICATED).
   */
  addTo(server: grpc.Server, o: { requirePeerCert: boolean }): void {
    server.addService(acceptingEncoded(adsService().service), {
      StreamAggregatedResources: (call: AdsCall) => {
        const peer = call.getAuthContext?.()?.sslPeerCertificate;
        if (o.requirePeerCert && !peer) {
          this.log.info({ peer: call.getPeer() }, 'refused an xDS stream without a verified client certificate');
          call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: 'xDS over TLS needs a client certificate issued by the mesh CA (or use the plaintext port)' });
          return;
        }
        const uri = /URI:(spiffe:\/\/[^,\s]+)/.exec(peer?.subjectaltname ?? '')?.[1];
        this.accept(call, uri);
      },
    });
  }

  /** Take over one stream (what addTo does per call; tests hand in fake calls). */
  accept(call: AdsCall, peerIdentity?: string): void {
    const s: Stream = { call, connectedAt: new Date().toISOString(), types: new Map(), ...(peerIdentity ? { peerIdentity } : {}) };
    this.streams.add(s);
    this.metrics.streamOpened();
    call.on('data', (req: DiscoveryRequest) => {
      try {
        this.onRequest(s, req);
      } catch (e) {
        this.log.error({ err: e, node: s.node?.id }, 'failed to answer an xDS request');
      }
    });
    const done = (): void => {
      if (!this.streams.delete(s)) return;
      this.metrics.streamClosed();
      if (s.node) this.o.events?.publish('proxy.disconnected', `${s.node.id} disconnected`, { node: s.node.id });
    };
    call.on('end', () => {
      done();
      call.end();
    });
    call.on('error', done);
    call.on('close', done);
  }

  /** Ends every stream (shutdown). */
  closeAll(): void {
    for (const s of this.streams) s.call.end();
    this.streams.clear();
  }

  private onRequest(s: Stream, req: DiscoveryRequest): void {
    if (!s.node) {
      if (!req.node?.id) {
        // as go-control-plane and istiod: the stream cannot be served without knowing who asks
        this.log.info({ peer: s.call.getPeer?.() }, 'refused an xDS stream whose first request has no node.id');
        s.call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'the first DiscoveryRequest of an ADS stream must set node.id (DiscoveryRequest.node.id is empty)' });
        return;
      }
      s.node = parseNode(req.node);
      this.log.info({ node: s.node }, 'proxy connected');
      this.o.events?.publish('proxy.connected', `${s.node.id} (${s.node.role}) connected`, { node: s.node.id, role: s.node.role, cluster: s.node.cluster });
    }
    const type = req.type_url ?? '';
    const names = [...(req.resource_names ?? [])].sort();
    const nonce = req.response_nonce ?? '';
    let st = s.types.get(type);
    if (!st) {
      // the first request of a type on this stream is a subscription; a nonce in it names a response of another
      // stream (a reconnect, maybe to another replica) and acknowledges nothing here
      const wildcard = names.length === 0 && WILDCARD_TYPES.includes(type) && s.node.role !== 'proxyless';
      st = { names: wildcard ? [] : names, wildcard, versionSent: '', versionAcked: '', lastNonce: '', sent: new Map() };
      s.types.set(type, st);
      const r = this.o.cache.resolve(s.node, type, st.names, st.wildcard);
      if (req.version_info && req.version_info === r.version) {
        // resuming: the client already holds exactly this content (versions are content hashes, the same on every
        // replica), so nothing is sent until something changes, as go-control-plane leaves the watch open
        st.versionSent = st.versionAcked = r.version;
        st.sent = new Map(r.resources.map((x) => [x.name, x]));
        this.log.debug({ node: s.node.id, type, version: r.version }, 'resumed subscription is up to date');
        return;
      }
      this.push(s, type, r, true);
      return;
    }
    if (nonce && st.lastNonce && nonce !== st.lastNonce) return; // stale: answers an older response of this stream
    if (nonce && nonce === st.lastNonce) {
      if (req.error_detail && (req.error_detail.message || req.error_detail.code)) {
        const message = req.error_detail.message ?? `code ${req.error_detail.code}`;
        st.lastNack = { nonce, message, at: new Date().toISOString() };
        this.metrics.nacked(type);
        this.log.warn({ node: s.node.id, type, nonce, message, keptVersion: st.versionAcked }, 'proxy rejected configuration (NACK)');
        this.o.events?.publish('proxy.nack', `${s.node.id} rejected ${type}: ${message}`, { node: s.node.id, type, message });
      } else {
        st.versionAcked = req.version_info ?? st.versionSent;
      }
    }
    if (st.wildcard || names.join('\n') === st.names.join('\n')) return;
    st.names = names;
    this.push(s, type, this.o.cache.resolve(s.node, type, st.names, false), true);
  }

  /**
   * One push round after a snapshot change: every subscribed type of every stream whose resolved version changed
   * is sent (RDS/EDS with only the changed resources). Returns the number of responses written.
   */
  pushChanged(): number {
    let pushed = 0;
    this.bodyMemo = new Map();
    try {
      this.o.cache.batch(() => {
        for (const s of this.streams) {
          if (!s.node) continue;
          for (const t of PUSH_ORDER) {
            const st = s.types.get(t);
            if (st && this.push(s, t, this.o.cache.resolve(s.node, t, st.names, st.wildcard), false)) pushed++;
          }
        }
      });
    } finally {
      this.bodyMemo = undefined;
    }
    return pushed;
  }

  /** Sends this type if its content changed (or always, when force). Returns whether it sent. */
  private push(s: Stream, type: string, r: Resolved, force: boolean): boolean {
    const st = s.types.get(type)!;
    if (!force && r.version === st.versionSent) return false;
    const partial = !force && PARTIAL_TYPES.includes(type);
    const out = partial ? r.resources.filter((x) => st.sent.get(x.name)?.hash !== x.hash) : r.resources;
    st.versionSent = r.version;
    st.lastNonce = `${this.noncePrefix}-${++this.nonce}`;
    st.sent = new Map(r.resources.map((x) => [x.name, x]));
    // streams in the same state get the same bytes: encoded once per push round, the nonce appended per stream
    const key = `${type}\n${r.version}\n${out.map((x) => x.hash).join(',')}`;
    let body = this.bodyMemo?.get(key);
    if (!body) {
      body = encodeResponseBody({ version_info: r.version, resources: out.map((x) => x.any), type_url: type });
      this.bodyMemo?.set(key, body);
    }
    s.call.write(withNonce(body, st.lastNonce));
    this.metrics.pushed(type);
    return true;
  }

  /** (node, type) of every subscription on an open stream: what the cache must keep. */
  subscriptions(): { node: ProxyNode; typeUrl: string }[] {
    const out: { node: ProxyNode; typeUrl: string }[] = [];
    for (const s of this.streams) if (s.node) for (const t of s.types.keys()) out.push({ node: s.node, typeUrl: t });
    return out;
  }

  /** ADS streams open (with or without a node yet). */
  connectedStreams(): number {
    return this.streams.size;
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

  /** What a node holds, per type (Any resources as sent), or undefined if not connected. */
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
