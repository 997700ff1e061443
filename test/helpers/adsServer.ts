// A tiny ADS server for proxy tests: serves whatever resources the test sets, per type, to every stream,
// and records every DiscoveryRequest (to check ACK/NACK and node metadata).
import * as grpc from '@grpc/grpc-js';
import { packAny } from '../../src/xds/protos.ts';
import { adsService } from '../../src/xds/adsService.ts';

export interface SeenRequest { type_url: string; version_info: string; response_nonce: string; resource_names: string[]; error_detail?: { message: string } | null; node?: { id: string; metadata?: { fields?: Record<string, { stringValue?: string }> } } | null }

export class TestAds {
  readonly requests: SeenRequest[] = [];
  private readonly server = new grpc.Server();
  private readonly streams = new Set<grpc.ServerDuplexStream<SeenRequest, object>>();
  private readonly state = new Map<string, { version: string; resources: object[] }>();
  private nonce = 0;

  constructor() {
    this.server.addService(adsService().service, {
      StreamAggregatedResources: (call: grpc.ServerDuplexStream<SeenRequest, object>) => {
        this.streams.add(call);
        const sentFor = new Set<string>();
        call.on('data', (req: SeenRequest) => {
          this.requests.push(req);
          if (!sentFor.has(req.type_url) || req.response_nonce === '') { sentFor.add(req.type_url); this.sendTo(call, req.type_url); }
        });
        call.on('end', () => { this.streams.delete(call); call.end(); });
        call.on('error', () => this.streams.delete(call));
      },
      DeltaAggregatedResources: (call: grpc.ServerDuplexStream<object, object>) => call.end(),
    });
  }

  async start(port = 0): Promise<string> {
    const bound = await new Promise<number>((res, rej) => this.server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    return `127.0.0.1:${bound}`;
  }

  set(typeUrl: string, version: string, resources: object[]): void {
    this.state.set(typeUrl, { version, resources });
    for (const s of this.streams) this.sendTo(s, typeUrl);
  }

  private sendTo(call: grpc.ServerDuplexStream<SeenRequest, object>, typeUrl: string): void {
    const st = this.state.get(typeUrl);
    if (!st) return;
    call.write({ version_info: st.version, type_url: typeUrl, nonce: String(++this.nonce), resources: st.resources.map((r) => packAny(typeUrl, r)) });
  }

  stop(): void {
    for (const s of this.streams) s.end();
    this.server.forceShutdown();
  }
}
