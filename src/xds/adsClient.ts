// meshfed's ADS client (State of the World), for the sidecar, the gateway and `meshfed proxy-config`: subscribes per
// type, decodes with unpackAny, ACKs what the handler accepts and NACKs (keeping the previous version) what it rejects;
// reconnects with jittered backoff, to the next control-plane replica when it was given several, and resumes with its
// last versions and nonces (a replica that serves the same content sends nothing until something changes).
import { setTimeout as delay } from 'node:timers/promises';
import { GrpcChannel, type BidiCall } from '../grpc/client.ts';
import { ADS_PATH, messageCodec, unpackAny, type AnyMessage } from './protos.ts';
import { nodeMessage } from './node.ts';
import { parseXdsAddresses, reconnectDelay, XDS_BACKOFF, XDS_STARTUP_BACKOFF } from './xdsAddresses.ts';
import type { Logger } from '../log.ts';

export interface NodeInfo {
  id: string;
  role: 'sidecar' | 'gateway' | 'proxyless';
  /** CLUSTER_ID and NETWORK metadata; left out when empty (proxy-config asking as a node that has none) */
  clusterId: string;
  network: string;
  locality: { region: string; zone?: string; sub_zone?: string };
  /** the workload's labels, sent as metadata LABELS (Istio's; DestinationRule failoverPriority ranks by them) */
  labels?: Readonly<Record<string, string>>;
}

/** Handler for one type's full resource set. Throw to NACK (the message goes back as error_detail). */
export type ResourceHandler = (resources: Record<string, unknown>[], version: string) => void;

interface DiscoveryResponse { version_info: string; resources: AnyMessage[]; type_url: string; nonce: string }

export interface XdsClientOptions {
  /**
   * HTTP/2 PING every this often, and give the connection up when one is not answered within keepaliveTimeoutMs: a
   * replica that hangs without closing its connections (SIGSTOP, a partition) is left like a dead one. Default 10 s / 5 s.
   */
  keepaliveMs?: number;
  keepaliveTimeoutMs?: number;
}

/** A stream that lived this long counts as having been up (a resumed, up-to-date one may receive nothing). */
const UP_AFTER_MS = 5000;

export class XdsClient {
  private readonly subs = new Map<string, { names: string[]; version: string; nonce: string; handler: ResourceHandler }>();
  private stream: BidiCall<object> | undefined;
  /** the control plane's replicas (one entry: its Service) */
  private readonly addresses: string[];
  /** the connection of the current stream: a fresh one per attempt, so this client's backoff is the only one */
  private channel: GrpcChannel | undefined;
  private readonly codec = { encode: messageCodec('envoy.service.discovery.v3.DiscoveryRequest').encode, decode: messageCodec<DiscoveryResponse>('envoy.service.discovery.v3.DiscoveryResponse').decode };
  /** index into addresses of the one to try next; starts at a random replica, as a Service would spread proxies */
  private next: number;
  private current = '';
  private readonly abort = new AbortController();
  private nodeSent = false;
  /** the last stream failure while it lasts ('' when connected): one log line per change, not one per retry */
  private failing = '';
  private gotResponse = false;
  private appliedAt = 0;

  /** `address`: `host:port`, or several replicas as `host:port,host:port` (throws naming a malformed entry). */
  constructor(address: string, private readonly node: NodeInfo, private readonly log: Logger, private readonly opts: XdsClientOptions = {}) {
    this.addresses = parseXdsAddresses(address);
    this.next = Math.floor(Math.random() * this.addresses.length);
  }

  /** When this client last applied (and ACKed) a response, ms since the epoch; 0 before the first. */
  get lastAppliedAt(): number {
    return this.appliedAt;
  }

  /** The address of the replica the stream is open to ('' between streams). */
  get connectedTo(): string {
    return this.stream ? this.current : '';
  }

  /** Subscribe (or change the names of) a type. Empty names = wildcard. */
  subscribe(typeUrl: string, names: string[], handler: ResourceHandler): void {
    const prev = this.subs.get(typeUrl);
    this.subs.set(typeUrl, { names, version: prev?.version ?? '', nonce: prev?.nonce ?? '', handler });
    if (this.stream) this.send(typeUrl);
  }

  /**
   * Runs until stop(): one stream at a time. When it breaks, waits a jittered backoff (restarted after a stream that
   * was up; at most 1 s until the first configuration is applied) and opens the next one to the next address, with
   * the versions and nonces it holds.
   */
  async start(): Promise<void> {
    let failures = 0;
    while (!this.abort.signal.aborted) {
      const address = this.addresses[this.next % this.addresses.length]!;
      this.next = (this.next + 1) % this.addresses.length;
      const opened = performance.now();
      this.gotResponse = false;
      const err = await this.runStream(address);
      this.channel?.close();
      this.channel = undefined;
      if (this.abort.signal.aborted) return;
      if (this.gotResponse || performance.now() - opened >= UP_AFTER_MS) failures = 0;
      if (err.message !== this.failing) {
        this.failing = err.message;
        this.log.warn({ xds: address, err: err.message, ...(this.addresses.length > 1 ? { next: this.addresses[this.next] } : {}) }, 'xDS stream down; reconnecting with backoff');
      }
      await delay(reconnectDelay(failures++, Math.random(), this.appliedAt ? XDS_BACKOFF : XDS_STARTUP_BACKOFF), undefined, { signal: this.abort.signal }).catch(() => undefined);
    }
  }

  stop(): void {
    this.abort.abort();
    this.stream?.cancel();
    this.channel?.close();
  }

  private send(typeUrl: string, errorDetail?: string): void {
    const s = this.subs.get(typeUrl)!;
    const req: Record<string, unknown> = { type_url: typeUrl, resource_names: s.names, version_info: s.version, response_nonce: s.nonce };
    if (!this.nodeSent) {
      req.node = nodeMessage({
        id: this.node.id,
        locality: this.node.locality,
        metadata: {
          MESHFED_ROLE: this.node.role,
          ...(this.node.clusterId ? { CLUSTER_ID: this.node.clusterId } : {}), ...(this.node.network ? { NETWORK: this.node.network } : {}),
          ...(this.node.labels ? { LABELS: this.node.labels } : {}),
        },
      });
      this.nodeSent = true;
    }
    if (errorDetail) req.error_detail = { code: 3, message: errorDetail };
    this.stream?.write(req);
  }

  /** One stream to `address`; resolves with why it ended. */
  private runStream(address: string): Promise<Error> {
    return new Promise<Error>((resolve) => {
      if (this.abort.signal.aborted) return resolve(new Error('stopped'));
      this.current = address;
      this.channel = new GrpcChannel(address, { keepalive: { intervalMs: this.opts.keepaliveMs ?? 10_000, timeoutMs: this.opts.keepaliveTimeoutMs ?? 5_000 } });
      const stream = this.channel.bidi(ADS_PATH, this.codec);
      this.stream = stream;
      this.nodeSent = false;
      for (const t of this.subs.keys()) this.send(t);
      stream.on('data', (r: DiscoveryResponse) => this.onResponse(r));
      const fail = (e: Error): void => { if (this.stream === stream) this.stream = undefined; resolve(e); };
      stream.on('error', (e: Error) => fail(e));
      stream.on('end', () => fail(new Error('xDS server closed the stream')));
    });
  }

  private onResponse(r: DiscoveryResponse): void {
    this.gotResponse = true;
    if (this.failing) {
      this.log.info({ xds: this.current }, 'xDS stream up again');
      this.failing = '';
    }
    const s = this.subs.get(r.type_url);
    if (!s) return;
    s.nonce = r.nonce;
    try {
      const decoded = r.resources.map((a) => unpackAny<Record<string, unknown>>(a));
      s.handler(decoded, r.version_info);
      s.version = r.version_info;
      this.appliedAt = Date.now();
      this.send(r.type_url);
    } catch (e) {
      const msg = `rejected ${r.type_url} version ${r.version_info}: ${(e as Error).message}`;
      this.log.warn({ typeUrl: r.type_url, version: r.version_info, err: (e as Error).message }, 'xDS NACK');
      this.send(r.type_url, msg);
    }
  }
}
