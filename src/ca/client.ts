// Client for the CA's CreateCertificate, for proxies: the lean gRPC client (src/grpc), no grpc-js, no server code.
import { GrpcChannel, GrpcError } from '../grpc/client.ts';
import { certCodec, CREATE_CERTIFICATE_PATH } from './certCodec.ts';

export interface CertificateRequestOptions {
  /** host:port */
  address: string;
  /** root(s) that verify the CA's serving certificate */
  caCertPem: string;
  token: string;
  cluster: string;
  csrPem: string;
  validitySeconds?: number;
  /** TLS name to verify on the CA's serving certificate (default: host of address) */
  serverName?: string;
  deadlineMs?: number;
}

export class CaRequestError extends Error {
  /** code: the gRPC status (numerically grpc-js's `status`) */
  constructor(message: string, readonly code: number) { super(message); }
}

type Channel = Pick<CertificateRequestOptions, 'address' | 'caCertPem' | 'serverName' | 'deadlineMs'>;
type Request = Pick<CertificateRequestOptions, 'token' | 'cluster' | 'csrPem' | 'validitySeconds'>;

type Codec = ReturnType<typeof certCodec>;

function create(channel: GrpcChannel, codec: Codec, o: Channel, r: Request): Promise<string[]> {
  return channel.unary(CREATE_CERTIFICATE_PATH, codec, { csr: r.csrPem, validity_duration: r.validitySeconds ?? 0 },
    { authorization: `Bearer ${r.token}`, clusterid: r.cluster }, o.deadlineMs ?? 10_000)
    .then((res) => res.cert_chain, (e: unknown) => {
      const err = e as GrpcError;
      throw new CaRequestError(`CA ${o.address} CreateCertificate failed: ${err.message}`, err instanceof GrpcError ? err.code : 2);
    });
}

const channelFor = (o: Channel): GrpcChannel => new GrpcChannel(o.address, { tls: { caPem: o.caCertPem, ...(o.serverName ? { serverName: o.serverName } : {}) } });

export async function requestCertificate(o: CertificateRequestOptions): Promise<string[]> {
  const channel = channelFor(o);
  try { return await create(channel, certCodec(), o, o); } finally { channel.close(); }
}

/** A long-lived CA client (one connection, many requests) for callers that renew often or in bulk. */
export function createCaClient(o: Channel): { request: (r: Request) => Promise<string[]>; close: () => void } {
  const channel = channelFor(o);
  const codec = certCodec();
  return { request: (r) => create(channel, codec, o, r), close: () => channel.close() };
}
