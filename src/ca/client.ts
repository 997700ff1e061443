// Client for the CA's CreateCertificate, for proxies. Free of server imports.
import * as grpc from '@grpc/grpc-js';
import { caServiceDefinition, type CertResponse } from './proto.ts';

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
  constructor(message: string, readonly code: grpc.status) { super(message); }
}

export function requestCertificate(o: CertificateRequestOptions): Promise<string[]> {
  const { client: Ctor } = caServiceDefinition();
  const creds = grpc.credentials.createSsl(Buffer.from(o.caCertPem));
  const opts: grpc.ClientOptions = o.serverName ? { 'grpc.ssl_target_name_override': o.serverName } : {};
  const client = new Ctor(o.address, creds, opts);
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${o.token}`);
  md.set('clusterid', o.cluster);
  return new Promise<string[]>((resolve, reject) => {
    const call = client as unknown as { CreateCertificate: (req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: CertResponse) => void) => void };
    call.CreateCertificate({ csr: o.csrPem, validity_duration: o.validitySeconds ?? 0 }, md, { deadline: Date.now() + (o.deadlineMs ?? 10_000) }, (err, res) => {
      client.close();
      if (err) reject(new CaRequestError(`CA ${o.address} CreateCertificate failed: ${err.details || err.message}`, err.code));
      else resolve(res?.cert_chain ?? []);
    });
  });
}

/** A long-lived CA client (one channel, many requests) for callers that renew often or in bulk. */
export function createCaClient(o: Omit<CertificateRequestOptions, 'token' | 'cluster' | 'csrPem' | 'validitySeconds'>): {
  request: (r: { token: string; cluster: string; csrPem: string; validitySeconds?: number }) => Promise<string[]>;
  close: () => void;
} {
  const { client: Ctor } = caServiceDefinition();
  const opts: grpc.ClientOptions = o.serverName ? { 'grpc.ssl_target_name_override': o.serverName } : {};
  const client = new Ctor(o.address, grpc.credentials.createSsl(Buffer.from(o.caCertPem)), opts);
  const call = client as unknown as { CreateCertificate: (req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: CertResponse) => void) => void };
  return {
    request: (r) => new Promise<string[]>((resolve, reject) => {
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer ${r.token}`);
      md.set('clusterid', r.cluster);
      call.CreateCertificate({ csr: r.csrPem, validity_duration: r.validitySeconds ?? 0 }, md, { deadline: Date.now() + (o.deadlineMs ?? 10_000) }, (err, res) => {
        if (err) reject(new CaRequestError(`CA ${o.address} CreateCertificate failed: ${err.details || err.message}`, err.code));
        else resolve(res?.cert_chain ?? []);
      });
    }),
    close: () => client.close(),
  };
}
