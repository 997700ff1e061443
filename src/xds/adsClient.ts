// meshfed's ADS client (State of the World), for the sidecar, the gateway and `meshfed proxy-config`: subscribes per
// type, decodes with unpackAny, ACKs what the handler accepts and NACKs (keeping the previous version) what it rejects;
// reconnects with backoff (p-retry) and resumes with its last versions and nonces.
import pRetry from 'p-retry';
import { GrpcChannel, type BidiCall } from '../grpc/client.ts';
import { ADS_PATH, messageCodec, unpackAny, type AnyMessage } from './protos.ts';
import { nodeMessage } from './node.ts';
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

export class XdsClient {
  private readonly subs = new Map<string, { names: string[]; version: string; nonce: string; handler: ResourceHandler }>();
  private stream: BidiCall<object> | undefined;
  private readonly channel: GrpcChannel;
  private readonly codec = { encode: messageCodec('envoy.service.discovery.v3.DiscoveryRequest').encode, decode: messageCodec<DiscoveryResponse>('envoy.service.discovery.v3.DiscoveryResponse').decode };
  private readonly abort = new AbortController();
  private nodeSent = false;
  /** the last stream failure while it lasts ('' when connected): one log line per change, not one per retry */
  private failing = '';

  constructor(private readonly address: string, private readonly node: NodeInfo, private readonly log: Logger) {
    this.channel = new GrpcChannel(address);
  }

  /** Subscribe (or change the names of) a type. Empty names = wildcard. */
  subscribe(typeUrl: string, names: string[], handler: ResourceHandler): void {
    const prev = this.subs.get(typeUrl);
    this.subs.set(typeUrl, { names, version: prev?.version ?? '', nonce: prev?.nonce ?? '', handler });
    if (this.stream) this.send(typeUrl);
  }

  /** Runs until stop(): one stream at a time, reconnecting with exponential backoff. */
  start(): Promise<void> {
    return pRetry(() => this.runStream(), {
      retries: Infinity, minTimeout: 200, maxTimeout: 10000, factor: 2, randomize: true, signal: this.abort.signal,
      onFailedAttempt: (ctx: { error: Error }) => {
        if (this.abort.signal.aborted || ctx.error.message === this.failing) return;
        this.failing = ctx.error.message;
        this.log.warn({ xds: this.address, err: ctx.error.message }, 'xDS stream down; reconnecting with backoff');
      },
    }).catch((e: unknown) => { if (!this.abort.signal.aborted) throw e; });
  }

  stop(): void {
    this.abort.abort();
    this.stream?.cancel();
    this.channel.close();
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

  private runStream(): Promise<void> {
    return new Promise<void>((_resolve, reject) => {
      if (this.abort.signal.aborted) return reject(new Error('stopped'));
      const stream = this.channel.bidi(ADS_PATH, this.codec);
      this.stream = stream;
      this.nodeSent = false;
      for (const t of this.subs.keys()) this.send(t);
      stream.on('data', (r: DiscoveryResponse) => this.onResponse(r));
      const fail = (e: Error): void => { if (this.stream === stream) this.stream = undefined; reject(e); };
      stream.on('error', (e: Error) => fail(e));
      stream.on('end', () => fail(new Error('xDS server closed the stream')));
    });
  }

  private onResponse(r: DiscoveryResponse): void {
    if (this.failing) {
      this.log.info({ xds: this.address }, 'xDS stream up again');
      this.failing = '';
    }
    const s = this.subs.get(r.type_url);
    if (!s) return;
    s.nonce = r.nonce;
    try {
      const decoded = r.resources.map((a) => unpackAny<Record<string, unknown>>(a));
      s.handler(decoded, r.version_info);
      s.version = r.version_info;
      this.send(r.type_url);
    } catch (e) {
      const msg = `rejected ${r.type_url} version ${r.version_info}: ${(e as Error).message}`;
      this.log.warn({ typeUrl: r.type_url, version: r.version_info, err: (e as Error).message }, 'xDS NACK');
      this.send(r.type_url, msg);
    }
  }
}
