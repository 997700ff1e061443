// The signing intermediate: issues workload leaves and serving certificates.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { buildCertificate, certPem, issuerFrom, name, type Issuer } from './x509.ts';
import { parseCsr } from './csr.ts';

export interface CaMaterial {
  caCertPem: string;
  caKeyPem: string;
  /** intermediate(s) up to and including the root */
  certChainPem: string;
  rootCertPem: string;
}

export interface IssueOptions {
  validitySeconds?: number;
  now?: number;
}

export const DEFAULT_VALIDITY_S = 24 * 3600;
const EMPTY_NAME = name({});

export class Signer {
  readonly issuer: Issuer;
  readonly notAfter: number;
  /** chain appended after the leaf: intermediate(s) then root(s) */
  readonly chainPems: string[];
  readonly rootPem: string;

  /** m is kept so a signing worker (src/ca/pool.ts) can build the same signer */
  constructor(readonly material: CaMaterial, readonly maxValiditySeconds = 7 * 24 * 3600) {
    const m = material;
    const key: KeyObject = createPrivateKey(m.caKeyPem);
    this.issuer = issuerFrom(m.caCertPem, key);
    const x = new X509Certificate(m.caCertPem);
    if (!x.checkPrivateKey(key)) throw new Error('ca-key.pem does not match ca-cert.pem');
    this.notAfter = Date.parse(x.validTo);
    const chain = m.certChainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [m.caCertPem];
    this.chainPems = chain.map((c) => c.trim() + '\n');
    this.rootPem = m.rootCertPem;
    if (!this.chainPems.some((c) => c.trim() === m.rootCertPem.trim())) this.chainPems.push(m.rootCertPem.trim() + '\n');
  }

  /** validity: requested (default 24 h), capped by max and the intermediate's expiry; notBefore backdated 1 min */
  window(opts: IssueOptions): { notBefore: Date; notAfter: Date } {
    const now = opts.now ?? Date.now();
    const req = opts.validitySeconds && opts.validitySeconds > 0 ? opts.validitySeconds : DEFAULT_VALIDITY_S;
    const secs = Math.min(req, this.maxValiditySeconds);
    return { notBefore: new Date(now - 60_000), notAfter: new Date(Math.min(now + secs * 1000, this.notAfter)) };
  }

  /** Leaf for a public key (SPKI DER) with exactly these SANs; returns [leaf, ...chain] PEMs. */
  issueLeaf(spki: Buffer, sans: { uris?: string[]; dnsNames?: string[]; ipAddresses?: string[] }, opts: IssueOptions = {}): string[] {
    return [this.issueLeafPem(spki, sans, opts), ...this.chainPems];
  }

  /** The leaf alone (PEM); issueLeaf appends the chain. */
  issueLeafPem(spki: Buffer, sans: { uris?: string[]; dnsNames?: string[]; ipAddresses?: string[] }, opts: IssueOptions = {}): string {
    const w = this.window(opts);
    return certPem(buildCertificate({ subject: EMPTY_NAME, spki, ...w, ...sans }, this.issuer));
  }

  issueFromCsr(csrPem: string, uri: string, opts: IssueOptions = {}): string[] {
    const csr = parseCsr(csrPem);
    return this.issueLeaf(csr.spki, { uris: [uri] }, opts);
  }
}
