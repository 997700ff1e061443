// gRPC istio.v1.auth.IstioCertificateService on TLS: authenticate the token, check the identity, sign.
import * as grpc from '@grpc/grpc-js';
import { createLogger, type Logger } from '../log.ts';
import { caServiceDefinition, type CertRequest, type CertResponse } from './proto.ts';
import { issueForCaller, type IssueOutcome } from './issue.ts';
import { SigningPool } from './pool.ts';
import { isIdentity, type TokenReviewer } from './reviewer.ts';
import { Signer } from './signer.ts';
import { generateKey, keyToPem, spkiDer } from './x509.ts';
import { caMetrics } from './metrics.ts';
import type { Registry } from 'prom-client';

export const DEFAULT_CA_PORT = 15012;
export const MAX_REQUEST_BYTES = 64 * 1024;

export interface CaServerOptions {
  signer: Signer;
  reviewer: TokenReviewer;
  trustDomain: string;
  registry: Registry;
  /** DNS names for the serving certificate */
  dnsNames?: string[];
  log?: Logger;
  /**
   * CSR verification + signing on this many worker threads (0 = in the gRPC thread). Pays on a multi-core
   * machine under load: the gRPC/TLS thread and the signers run in parallel (see bench/ca.bench.ts).
   */
  signingWorkers?: number;
}

export { checkIdentity, type Decision } from './issue.ts';

export class CaServer {
  private server = new grpc.Server({ 'grpc.max_receive_message_length': MAX_REQUEST_BYTES });
  private metrics;
  private log: Logger;
  private pool?: SigningPool;
  port = 0;

  constructor(private o: CaServerOptions) {
    this.metrics = caMetrics(o.registry);
    this.log = o.log ?? createLogger('ca');
    if (o.signingWorkers) {
      this.pool = new SigningPool(o.signer, o.signingWorkers);
      this.pool.start(); // not on the first caller's time
    }
    this.addTo(this.server);
  }

  /** Serve CreateCertificate on a server someone else owns (the control plane's shared 15012 server). */
  addTo(server: grpc.Server): void {
    server.addService(caServiceDefinition().service, { CreateCertificate: this.handle.bind(this) });
  }

  private async handle(call: grpc.ServerUnaryCall<CertRequest, CertResponse>, cb: grpc.sendUnaryData<CertResponse>): Promise<void> {
    const fail = (code: grpc.status, reason: string, message: string): void => {
      this.metrics.errors.inc({ reason });
      this.log.info({ reason, peer: call.getPeer() }, message);
      cb({ code, details: message });
    };
    try {
      // on a shared server the channel limit may be larger than the CA's own
      if ((call.request.csr?.length ?? 0) > MAX_REQUEST_BYTES) return fail(grpc.status.RESOURCE_EXHAUSTED, 'size', `request larger than ${MAX_REQUEST_BYTES} bytes`);
      const auth = String(call.metadata.get('authorization')[0] ?? '');
      const cluster = String(call.metadata.get('clusterid')[0] ?? '');
      const token = /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
      if (!token) return fail(grpc.status.UNAUTHENTICATED, 'no_token', 'missing "authorization: Bearer <token>" metadata');
      if (!cluster) return fail(grpc.status.UNAUTHENTICATED, 'no_cluster', 'missing "clusterid" metadata');
      const who = await this.o.reviewer.review(cluster, token);
      if (!isIdentity(who)) return fail(grpc.status.UNAUTHENTICATED, 'token', who.reason);
      const expected = `spiffe://${this.o.trustDomain}/ns/${who.namespace}/sa/${who.serviceAccount}`;
      const t0 = process.hrtime.bigint();
      const req = { csrPem: call.request.csr ?? '', expectedUri: expected, validitySeconds: Number(call.request.validity_duration ?? 0) };
      const out: IssueOutcome = this.pool ? await this.pool.issue(req) : issueForCaller(this.o.signer, req);
      if (!out.ok) return fail(out.code, out.reason, out.message);
      this.metrics.signSeconds.observe(Number(process.hrtime.bigint() - t0) / 1e9);
      this.metrics.issued.inc();
      cb(null, { cert_chain: [out.leafPem, ...this.o.signer.chainPems] });
    } catch (e) {
      fail(grpc.status.INTERNAL, 'internal', `internal error: ${(e as Error).message}`);
    }
  }

  /** Starts on TLS with a serving certificate from the same CA; returns the bound port. */
  async start(port = DEFAULT_CA_PORT, host = '0.0.0.0'): Promise<number> {
    const k = generateKey();
    const dns = this.o.dnsNames ?? ['meshfed-ca.meshfed-system.svc', 'localhost'];
    const chain = this.o.signer.issueLeaf(spkiDer(k.publicKey), { dnsNames: dns }, { validitySeconds: this.o.signer.maxValiditySeconds });
    const creds = grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(keyToPem(k.privateKey)), cert_chain: Buffer.from(chain.slice(0, -1).join('')) }], false);
    this.port = await new Promise<number>((res, rej) => this.server.bindAsync(`${host}:${port}`, creds, (e, p) => (e ? rej(new Error(`CA cannot listen on ${host}:${port}: ${e.message}`)) : res(p))));
    this.log.info({ port: this.port }, 'CA serving IstioCertificateService');
    return this.port;
  }

  async stop(): Promise<void> {
    await new Promise<void>((res) => this.server.tryShutdown(() => res()));
    await this.pool?.close();
  }
}
