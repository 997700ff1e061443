// xDS protocol plumbing shared by pilot (server) and the proxies (clients): the Envoy v3 protos that
// @grpc/grpc-js-xds ships, the ADS service definition, type URLs, and Any encoding/decoding.
import protobuf from 'protobufjs/light.js';
import { readGenerated } from '../packagePaths.ts';

export const TYPE_URL = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  httpConnectionManager: 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  router: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
  fault: 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
  upstreamTlsContext: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
  downstreamTlsContext: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
  // authorization on a sidecar's inbound listener (src/security/inboundListener.ts)
  rbacHttp: 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC',
  rbacNetwork: 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC',
  tcpProxy: 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
} as const;

export type XdsTypeUrl = (typeof TYPE_URL)[keyof typeof TYPE_URL];

/** The four resource types an ADS stream carries, in make-before-break push order. */
export const PUSH_ORDER = [TYPE_URL.cluster, TYPE_URL.endpoint, TYPE_URL.listener, TYPE_URL.route] as const;

type Descriptor = { nested?: Record<string, Descriptor>; fields?: unknown; values?: unknown };

/**
 * One protobufjs Root that grows per message: the build writes, for each message meshfed packs or unpacks, the types
 * it reaches (generated/xds/<name>.json, scripts/protoDescriptors.mjs); the first use of a message adds the ones the
 * Root lacks. A gateway then builds ~155 of the ~560 Envoy types, a sidecar ~260, instead of parsing .proto files.
 */
class GrowingRoot {
  readonly root = new protobuf.Root();
  private readonly types = new Map<string, protobuf.Type>();

  type(fullName: string): protobuf.Type {
    let t = this.types.get(fullName);
    if (!t) {
      this.add(readGenerated<Descriptor>(`xds/${fullName}.json`), this.root, '');
      t = this.root.lookupType(fullName);
      this.types.set(fullName, t);
    }
    return t;
  }

  private add(json: Descriptor, into: protobuf.Namespace, prefix: string): void {
    for (const [name, d] of Object.entries(json.nested ?? {})) {
      const full = `${prefix}.${name}`;
      if (d.fields !== undefined || d.values !== undefined) {
        if (!this.root.lookup(full)) into.add(d.fields !== undefined ? protobuf.Type.fromJSON(name, d as protobuf.IType) : protobuf.Enum.fromJSON(name, d as protobuf.IEnum));
      } else {
        const ns = (into.get(name) as protobuf.Namespace | null) ?? into.add(new protobuf.Namespace(name)).get(name) as protobuf.Namespace;
        this.add(d, ns, full);
      }
    }
  }
}

const growing = new GrowingRoot();

/** The protobufjs type of an Envoy message by its full name, e.g. envoy.config.cluster.v3.Cluster. */
export function messageType(fullName: string): protobuf.Type {
  return growing.type(fullName);
}

const typeOfUrl = (typeUrl: string): protobuf.Type => messageType(typeUrl.slice(typeUrl.lastIndexOf('/') + 1));

export interface AnyMessage {
  type_url: string;
  value: Buffer;
}

/** Encodes a plain object (snake_case field names, as in Envoy's docs) as google.protobuf.Any. */
export function packAny(typeUrl: string, message: object): AnyMessage {
  const type = typeOfUrl(typeUrl);
  let msg: protobuf.Message;
  try {
    // fromObject converts and checks field types (a wrong type throws); a separate verify() pass over the
    // built message would walk it twice — it cost more than the conversion for large ClusterLoadAssignments
    msg = type.fromObject(message);
  } catch (e) {
    throw new Error(`xDS ${typeUrl}: ${(e as Error).message}`);
  }
  return { type_url: typeUrl, value: Buffer.from(type.encode(msg).finish()) };
}

/** how decoded messages look: proto-loader's options (keepCase is the descriptors' own) */
const DECODED: protobuf.IConversionOptions = { longs: String, enums: String, defaults: true, oneofs: true };

/** Decodes google.protobuf.Any into a plain object (enums as names, longs as strings, defaults filled). */
export function unpackAny<T = Record<string, unknown>>(any: AnyMessage): T {
  const type = typeOfUrl(any.type_url);
  return type.toObject(type.decode(any.value), DECODED) as T;
}

/** a message's wire codec: plain objects in, plain objects (as unpackAny decodes them) out */
export function messageCodec<T extends object = Record<string, unknown>>(fullName: string): { encode: (v: object) => Uint8Array; decode: (b: Buffer) => T } {
  const t = messageType(fullName);
  return {
    encode: (v) => t.encode(t.fromObject(v)).finish(),
    decode: (b) => t.toObject(t.decode(b), DECODED) as T,
  };
}

export const ADS_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
