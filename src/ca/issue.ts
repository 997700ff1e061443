// One CreateCertificate decision after authentication: parse + verify the CSR, check the identity, sign.
// The same function runs in the gRPC thread or in a signing worker (src/ca/pool.ts), so both give identical answers.
import * as grpc from '@grpc/grpc-js';
import { CsrError, parseCsr } from './csr.ts';
import type { Signer } from './signer.ts';

export type Decision = { ok: true; uri: string } | { ok: false; code: grpc.status; reason: string; message: string };

/** Pure: does the CSR's SAN set match the caller's SPIFFE ID exactly? */
export function checkIdentity(csrUris: string[], csrDns: string[], expected: string): Decision {
  if (csrDns.length > 0 || csrUris.length !== 1 || csrUris[0] !== expected) {
    return { ok: false, code: grpc.status.PERMISSION_DENIED, reason: 'identity', message: `csr asks for [${[...csrUris, ...csrDns].join(', ')}] but the caller is ${expected}` };
  }
  return { ok: true, uri: expected };
}

export interface IssueRequest {
  csrPem: string;
  /** the caller's SPIFFE ID (from its reviewed token) */
  expectedUri: string;
  /** requested validity in seconds (0 = default) */
  validitySeconds: number;
}

/** ok: the leaf PEM only — the caller appends signer.chainPems (kept out of worker messages). */
export type IssueOutcome = { ok: true; leafPem: string } | { ok: false; code: grpc.status; reason: string; message: string };

export function issueForCaller(signer: Signer, r: IssueRequest): IssueOutcome {
  let csr;
  try {
    csr = parseCsr(r.csrPem);
  } catch (e) {
    if (e instanceof CsrError) return { ok: false, code: grpc.status.INVALID_ARGUMENT, reason: 'csr', message: e.message };
    throw e;
  }
  const d = checkIdentity(csr.uris, csr.dnsNames, r.expectedUri);
  if (!d.ok) return d;
  return { ok: true, leafPem: signer.issueLeafPem(csr.spki, { uris: [d.uri] }, { validitySeconds: r.validitySeconds }) };
}
