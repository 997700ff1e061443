// Pilot: the xDS server of the control plane, assembled from its parts as go-control-plane separates them —
// the snapshot cache (cache.ts: what each node class gets, versions, sweep), the ADS protocol server (ads.ts:
// streams, nonces, ACK/NACK, wildcard, resume), the push scheduler (pushScheduler.ts: debounced batches) and the
// metrics (metrics.ts). This file owns the listening socket and wires the parts together.
import type { Resource } from './translate.ts';
import * as grpc from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import { createLogger } from '../log.ts';
import { PORTS } from '../mesh/names.ts';
import type { MeshSnapshot } from '../mesh/types.ts';
import type { EventBus } from '../observe/events.ts';
import type { AnyMessage } from '../xds/protos.ts';
import { AdsServer, type ProxyStatus } from './ads.ts';
import { SnapshotCache } from './cache.ts';
import type { CompiledSecurity } from '../security/pilotResources.ts';
import { pilotMetrics, type PilotMetrics } from './metrics.ts';
import type { CompiledPolicy } from './policy.ts';
import { PushScheduler } from './pushScheduler.ts';

export type { DiscoveryRequest, DiscoveryResponse, ProxyStatus, TypeStatus } from './ads.ts';

export interface PilotOptions {
  port?: number;
  host?: string;
  tls?: { key: Buffer | string; cert: Buffer | string; ca: Buffer | string };
  registry?: Registry;
  events?: EventBus;
  debounceMs?: number;
  maxDelayMs?: number;
  /** operator hook: adjust a generated resource (plain object) before it is encoded and sent */
  override?: (typeUrl: string, name: string, resource: Resource) => Resource;
}

export class Pilot {
  private readonly log = createLogger('pilot');
  private server?: grpc.Server;
  private readonly cache: SnapshotCache;
  private readonly ads: AdsServer;
  private readonly scheduler: PushScheduler;
  private readonly metrics: PilotMetrics;
  port = 0;

  constructor(private readonly opts: PilotOptions = {}) {
    this.metrics = pilotMetrics(opts.registry);
    this.cache = new SnapshotCache(opts.override ? { override: opts.override } : {});
    this.ads = new AdsServer({ cache: this.cache, metrics: this.metrics, ...(opts.events ? { events: opts.events } : {}) });
    this.scheduler = new PushScheduler((since) => this.flush(since), {
      ...(opts.debounceMs !== undefined ? { debounceMs: opts.debounceMs } : {}),
      ...(opts.maxDelayMs !== undefined ? { maxDelayMs: opts.maxDelayMs } : {}),
    });
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
    this.ads.addTo(server, o);
  }

  async stop(): Promise<void> {
    this.scheduler.cancel();
    this.ads.closeAll();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((res) => server.tryShutdown(() => res()));
  }

  /** Replace the traffic policy (accepted VirtualServices/DestinationRules, FQDN hosts); pushed like a snapshot change. */
  setPolicy(policy: CompiledPolicy): void {
    if (this.cache.setPolicy(policy)) this.scheduler.changed();
  }

  /** Replace the security policy (AuthorizationPolicy/PeerAuthentication → sidecar inbound listeners); pushed like a snapshot change. */
  setSecurity(security: CompiledSecurity): void {
    if (this.cache.setSecurity(security)) this.scheduler.changed();
  }

  /** Replace the mesh; pushes are debounced (window debounceMs, at most maxDelayMs after the first change). */
  setSnapshot(snapshot: MeshSnapshot): void {
    this.cache.setSnapshot(snapshot);
    this.scheduler.changed();
  }

  private flush(since: number): void {
    const pushed = this.ads.pushChanged();
    this.cache.sweep(this.ads.subscriptions());
    const secs = (Date.now() - since) / 1000;
    this.metrics.flushed(secs);
    const version = this.cache.snapshot.version;
    if (pushed > 0) this.opts.events?.publish('push.done', `snapshot ${version}: ${pushed} responses pushed`, { version, pushed, seconds: secs });
  }

  /** ADS streams open (with or without a node yet). */
  connectedStreams(): number {
    return this.ads.connectedStreams();
  }

  /** Entries in the encoded-resource cache (for tests: it must shrink when services are removed). */
  cacheSize(): number {
    return this.cache.size();
  }

  syncStatus(): ProxyStatus[] {
    return this.ads.syncStatus();
  }

  /** What was last sent to a node, per type (Any resources as sent), or undefined if not connected. */
  configDump(nodeId: string): Record<string, AnyMessage[]> | undefined {
    return this.ads.configDump(nodeId);
  }
}
