// Build step: parses the Envoy/xDS protos (shipped by @grpc/grpc-js-xds under deps/) and the CA proto once, and
// writes their protobufjs JSON descriptors to generated/. At run time meshfed loads these descriptors
// (Root.fromJSON, proto-loader's fromJSON) instead of parsing .proto files: faster start, less memory.
import { createRequire } from 'node:module';
import { accessSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('..', import.meta.url));
const depsDir = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
const xdsDirs = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(depsDir, d));
// google/protobuf/descriptor.proto (options in the RBAC protos' imports): protobufjs ships it; Any, Struct,
// Duration and the wrappers are built into protobufjs
const includeDirs = [...xdsDirs, dirname(require.resolve('protobufjs/package.json'))];

/** Every Envoy message meshfed encodes or decodes, and the ADS service. */
export const XDS_PROTOS = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/service/discovery/v3/discovery.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/filters/network/rbac/v3/rbac.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
];

function load(files, dirs) {
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => {
    for (const dir of dirs) {
      const p = join(dir, target);
      try { accessSync(p); return p; } catch { /* next include dir */ }
    }
    return target;
  };
  r.loadSync(files, { keepCase: true });
  r.resolveAll();
  return r;
}

/**
 * Messages meshfed packs or unpacks, each written with only the types it reaches (fields, map values, nested types):
 * a proxy that decodes clusters, endpoints and routes builds those, not the ~480 types of the full Envoy API.
 */
export const XDS_MESSAGES = [
  'envoy.service.discovery.v3.DiscoveryRequest',
  'envoy.service.discovery.v3.DiscoveryResponse',
  'envoy.config.listener.v3.Listener',
  'envoy.config.route.v3.RouteConfiguration',
  'envoy.config.cluster.v3.Cluster',
  'envoy.config.endpoint.v3.ClusterLoadAssignment',
  'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  'envoy.extensions.filters.http.router.v3.Router',
  'envoy.extensions.filters.http.fault.v3.HTTPFault',
  'envoy.extensions.filters.http.rbac.v3.RBAC',
  'envoy.extensions.filters.network.rbac.v3.RBAC',
  'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
  'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
  'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
];

/** full names of the types `name` needs to encode and decode */
function closure(r, name) {
  const seen = new Set();
  const visit = (t) => {
    if (!t || seen.has(t.fullName)) return;
    seen.add(t.fullName);
    if (t instanceof protobuf.Type) {
      for (const f of t.fieldsArray) visit(f.resolvedType);
      for (const n of t.nestedArray) visit(n);
    }
  };
  visit(r.lookup(name));
  return seen;
}

/** the descriptor JSON with only the given types (and the namespaces that hold them) */
function pruned(json, keep, prefix = '') {
  const nested = {};
  for (const [k, v] of Object.entries(json.nested ?? {})) {
    const full = `${prefix}.${k}`;
    if (keep.has(full)) nested[k] = v;
    else if (!v.fields && !v.values && v.nested) {
      const sub = pruned(v, keep, full);
      if (Object.keys(sub.nested).length > 0) nested[k] = { ...v, nested: sub.nested };
    }
  }
  return { ...json, nested };
}

export function writeDescriptors(outDir = join(root, 'generated')) {
  mkdirSync(join(outDir, 'xds'), { recursive: true });
  const xds = load(XDS_PROTOS, includeDirs);
  const json = xds.toJSON();
  writeFileSync(join(outDir, 'xds.json'), JSON.stringify(json));
  for (const m of XDS_MESSAGES) writeFileSync(join(outDir, 'xds', `${m}.json`), JSON.stringify(pruned(json, closure(xds, m))));
  const ca = load([join(root, 'src/ca/proto/ca.proto')], [join(root, 'src/ca/proto'), ...includeDirs]);
  writeFileSync(join(outDir, 'ca.json'), JSON.stringify(ca.toJSON()));
  return outDir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(`proto descriptors → ${writeDescriptors()}`);
