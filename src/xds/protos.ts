// xDS protocol plumbing shared by pilot (server) and the proxies (clients): the Envoy v3 protos that
// @grpc/grpc-js-xds ships, the ADS service definition, type URLs, and Any encoding/decoding.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { readGenerated } from '../packagePaths.ts';

/** protobufjs JSON descriptor of every Envoy message meshfed uses (scripts/protoDescriptors.mjs writes it at build). */
type Descriptor = protobuf.INamespace & { nested: NonNullable<protobuf.INamespace['nested']> };
let descriptor: Descriptor | undefined;
const xdsDescriptor = (): Descriptor => (descriptor ??= readGenerated<Descriptor>('xds.json'));

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
} as const;

export type XdsTypeUrl = (typeof TYPE_URL)[keyof typeof TYPE_URL];

/** The four resource types an ADS stream carries, in make-before-break push order. */
export const PUSH_ORDER = [TYPE_URL.cluster, TYPE_URL.endpoint, TYPE_URL.listener, TYPE_URL.route] as const;

let root: protobuf.Root | undefined;

/** protobufjs Root with every Envoy message meshfed encodes (loaded once, lazily). */
export function resourceRoot(): protobuf.Root {
  return (root ??= protobuf.Root.fromJSON(xdsDescriptor()));
}

export interface AnyMessage {
  type_url: string;
  value: Buffer;
}

/** Encodes a plain object (snake_case field names, as in Envoy's docs) as google.protobuf.Any. */
const types = new Map<string, protobuf.Type>();

export function packAny(typeUrl: string, message: object): AnyMessage {
  let type = types.get(typeUrl);
  if (!type) {
    type = resourceRoot().lookupType(typeUrl.slice(typeUrl.lastIndexOf('/') + 1));
    types.set(typeUrl, type);
  }
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

/** Decodes google.protobuf.Any into a plain object (enums as names, longs as strings, defaults filled). */
export function unpackAny<T = Record<string, unknown>>(any: AnyMessage): T {
  const type = resourceRoot().lookupType(any.type_url.slice(any.type_url.lastIndexOf('/') + 1));
  return type.toObject(type.decode(any.value), { longs: String, enums: String, defaults: true, oneofs: true }) as T;
}

let ads: grpc.GrpcObject | undefined;

/** The loaded ADS package (envoy.service.discovery.v3) for grpc-js servers and clients. */
export function adsPackage(): grpc.GrpcObject {
  if (ads) return ads;
  const def = protoLoader.fromJSON(xdsDescriptor(), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  ads = grpc.loadPackageDefinition(def);
  return ads;
}

/** envoy.service.discovery.v3.AggregatedDiscoveryService, ready for server.addService / new Client(). */
export function adsService(): grpc.ServiceClientConstructor {
  const pkg = adsPackage() as unknown as { envoy: { service: { discovery: { v3: { AggregatedDiscoveryService: grpc.ServiceClientConstructor } } } } };
  return pkg.envoy.service.discovery.v3.AggregatedDiscoveryService;
}
