// istio.v1.auth.IstioCertificateService's two messages, encoded with protobufjs from the build's descriptor
// (generated/ca.json), for the lean client the proxies use; the server keeps proto-loader's definition (proto.ts).
import protobuf from 'protobufjs/light.js';
import { readGenerated } from '../packagePaths.ts';
import type { Codec } from '../grpc/client.ts';

export interface CertRequest { csr: string; validity_duration?: number | string; metadata?: unknown }
export interface CertResponse { cert_chain: string[] }

export const CREATE_CERTIFICATE_PATH = '/istio.v1.auth.IstioCertificateService/CreateCertificate';

/** builds the codec (a few small types; callers keep it for their channel's life) */
export function certCodec(): Codec<CertRequest, CertResponse> {
  const root = protobuf.Root.fromJSON(readGenerated('ca.json'));
  const req = root.lookupType('istio.v1.auth.IstioCertificateRequest');
  const res = root.lookupType('istio.v1.auth.IstioCertificateResponse');
  return {
    encode: (m) => req.encode(req.fromObject(m)).finish(),
    decode: (b) => res.toObject(res.decode(b), { defaults: true }) as CertResponse,
  };
}
