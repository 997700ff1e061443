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

export function writeDescriptors(outDir = join(root, 'generated')) {
  mkdirSync(outDir, { recursive: true });
  const xds = load(XDS_PROTOS, includeDirs);
  writeFileSync(join(outDir, 'xds.json'), JSON.stringify(xds.toJSON()));
  const ca = load([join(root, 'src/ca/proto/ca.proto')], [join(root, 'src/ca/proto'), ...includeDirs]);
  writeFileSync(join(outDir, 'ca.json'), JSON.stringify(ca.toJSON()));
  return outDir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(`proto descriptors → ${writeDescriptors()}`);
