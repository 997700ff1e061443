// xDS protocol plumbing shared by pilot (server) and the proxies (clients): the Envoy v3 protos that
// @grpc/grpc-js-xds ships, the ADS service definition, type URLs, and Any encoding/decoding.
import { createRequire } from 'node:module';
import { accessSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

const require = createRequire(import.meta.url);
const depsDir = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');

export const PROTO_INCLUDE_DIRS = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(depsDir, d));

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

const RESOURCE_PROTOS = [
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/filters/network/rbac/v3/rbac.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/service/discovery/v3/discovery.proto',
];

let root: protobuf.Root | undefined;

/** protobufjs Root with every Envoy message meshfed encodes (loaded once, lazily). */
export function resourceRoot(): protobuf.Root {
  if (root) return root;
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => {
    for (const dir of PROTO_INCLUDE_DIRS) {
      const p = join(dir, target);
      try {
        accessSync(p);
        return p;
      } catch {
        /* next include dir */
      }
    }
    return target;
  };
  r.loadSync(RESOURCE_PROTOS, { keepCase: true });
  r.resolveAll();
  root = r;
  return r;
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
  const def = protoLoader.loadSync(['envoy/service/discovery/v3/ads.proto'], {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: PROTO_INCLUDE_DIRS,
  });
  ads = grpc.loadPackageDefinition(def);
  return ads;
}

/** envoy.service.discovery.v3.AggregatedDiscoveryService, ready for server.addService / new Client(). */
export function adsService(): grpc.ServiceClientConstructor {
  const pkg = adsPackage() as unknown as { envoy: { service: { discovery: { v3: { AggregatedDiscoveryService: grpc.ServiceClientConstructor } } } } };
  return pkg.envoy.service.discovery.v3.AggregatedDiscoveryService;
}
