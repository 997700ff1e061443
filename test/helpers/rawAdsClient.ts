// A raw ADS client: opens StreamAggregatedResources, sends DiscoveryRequests, queues responses.
// A test and bench helper (protocol-level: nonces, ACK/NACK by hand); meshfed's own client is src/xds/adsClient.ts.
import * as grpc from '@grpc/grpc-js';
import { type AnyMessage } from '../../src/xds/protos.ts';
import { adsService } from '../../src/xds/adsService.ts';
import { nodeMessage } from '../../src/xds/node.ts';

export interface XdsNode {
  id: string;
  locality?: { region?: string; zone?: string; sub_zone?: string };
  metadata?: Record<string, string>;
}

export interface AdsResponse {
  version_info: string;
  resources: AnyMessage[];
  type_url: string;
  nonce: string;
}

export class AdsClient {
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<object, AdsResponse>;
  private readonly queue: AdsResponse[] = [];
  private waiters: ((r: AdsResponse | Error) => void)[] = [];
  private failure?: Error;
  private nodeSent = false;

  constructor(address: string, private readonly node: XdsNode, creds = grpc.credentials.createInsecure(), options: grpc.ChannelOptions = {}) {
    const Ctor = adsService();
    this.client = new Ctor(address, creds, { 'grpc.max_receive_message_length': -1, ...options });
    const c = this.client as unknown as { StreamAggregatedResources: () => grpc.ClientDuplexStream<object, AdsResponse> };
    this.call = c.StreamAggregatedResources();
    this.call.on('data', (r: AdsResponse) => {
      const w = this.waiters.shift();
      if (w) w(r);
      else this.queue.push(r);
    });
    this.call.on('error', (e: Error) => {
      this.failure = new Error(`ADS stream to ${address}: ${e.message}`);
      for (const w of this.waiters.splice(0)) w(this.failure);
    });
  }

  send(typeUrl: string, names: readonly string[], ack?: { version: string; nonce: string; error?: string }): void {
    // the node only on the first request of the stream, as Envoy does (set_node_on_first_message_only): the server
    // keeps it per stream, and decoding a Struct with every ACK is wasted work on both ends
    const node = this.nodeSent ? {} : { node: nodeMessage(this.node) };
    this.nodeSent = true;
    this.call.write({
      ...node,
      type_url: typeUrl,
      resource_names: [...names],
      version_info: ack?.version ?? '',
      response_nonce: ack?.nonce ?? '',
      ...(ack?.error ? { error_detail: { code: 3, message: ack.error } } : {}),
    });
  }

  /** Next response (in arrival order), or an error after timeoutMs. */
  next(timeoutMs = 2000): Promise<AdsResponse> {
    const q = this.queue.shift();
    if (q) return Promise.resolve(q);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((res, rej) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        rej(new Error(`no xDS response within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (r: AdsResponse | Error) => {
        clearTimeout(timer);
        if (r instanceof Error) rej(r);
        else res(r);
      };
      this.waiters.push(waiter);
    });
  }

  /** Responses already queued (not yet taken with next()). */
  pending(): number {
    return this.queue.length;
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}
