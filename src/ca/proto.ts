// Loads the CA proto (shared by server and client; no server code here).
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { readGenerated } from '../packagePaths.ts';

export type { CertRequest, CertResponse } from './certCodec.ts';

export function caServiceDefinition(): { service: grpc.ServiceDefinition; client: grpc.ServiceClientConstructor } {
  const def = protoLoader.fromJSON(readGenerated('ca.json'), { keepCase: true, longs: Number, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { istio: { v1: { auth: { IstioCertificateService: grpc.ServiceClientConstructor } } } };
  const ctor = pkg.istio.v1.auth.IstioCertificateService;
  return { service: ctor.service, client: ctor };
}
