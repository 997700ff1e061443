// The control plane's TLS server credentials (port 15012: CA and mTLS xDS on one server, as istiod): a serving
// certificate issued by the mesh CA for the control plane's names, renewed at half its lifetime without a restart
// (a grpc-js certificate provider), and — when asked — a client certificate requested (verified against the mesh
// roots) but not required, since CA callers have no certificate yet.
import * as grpc from '@grpc/grpc-js';
import type { CaCertificateUpdate, CaCertificateUpdateListener, CertificateProvider, IdentityCertificateUpdate, IdentityCertificateUpdateListener } from '@grpc/grpc-js/build/src/certificate-provider.js';
import { X509Certificate } from 'node:crypto';
import type { Signer } from './signer.ts';
import { generateKey, keyToPem, spkiDer } from './x509.ts';

/** A provider whose certificates are pushed by its owner. */
export class PushCertificateProvider implements CertificateProvider {
  private ca: CaCertificateUpdate | null = null;
  private id: IdentityCertificateUpdate | null = null;
  private readonly caListeners = new Set<CaCertificateUpdateListener>();
  private readonly idListeners = new Set<IdentityCertificateUpdateListener>();

  setCa(pem: string): void { this.ca = { caCertificate: Buffer.from(pem) }; for (const l of this.caListeners) l(this.ca); }
  setIdentity(certPem: string, keyPem: string): void { this.id = { certificate: Buffer.from(certPem), privateKey: Buffer.from(keyPem) }; for (const l of this.idListeners) l(this.id); }

  // grpc-js registers its own watcher only after adding these listeners: deliver the current value asynchronously
  addCaCertificateListener(l: CaCertificateUpdateListener): void { this.caListeners.add(l); setImmediate(() => { if (this.ca && this.caListeners.has(l)) l(this.ca); }); }
  removeCaCertificateListener(l: CaCertificateUpdateListener): void { this.caListeners.delete(l); }
  addIdentityCertificateListener(l: IdentityCertificateUpdateListener): void { this.idListeners.add(l); setImmediate(() => { if (this.id && this.idListeners.has(l)) l(this.id); }); }
  removeIdentityCertificateListener(l: IdentityCertificateUpdateListener): void { this.idListeners.delete(l); }
}

export interface ServingOptions {
  signer: Signer;
  roots: string[];
  dnsNames: string[];
  ipAddresses?: string[];
  requestClientCert: boolean;
  /** lifetime of each serving certificate (default: the signer's maximum) */
  validitySeconds?: number;
  onRenew?: (serialHex: string, notAfter: string) => void;
}

export interface Serving {
  credentials: grpc.ServerCredentials;
  /** serial of the certificate in use */
  serial(): string;
  close(): void;
}

/** Pure: renew at half of the lifetime, never sooner than 1 s. */
export function renewInMs(notBefore: number, notAfter: number, now: number): number {
  return Math.max(1000, notBefore + (notAfter - notBefore) / 2 - now);
}

export function servingCredentials(o: ServingOptions): Serving {
  const provider = new PushCertificateProvider();
  provider.setCa(o.roots.join('\n'));
  let serial = '';
  let timer: NodeJS.Timeout | undefined;
  const issue = (): void => {
    const k = generateKey();
    const chain = o.signer.issueLeaf(spkiDer(k.publicKey), { dnsNames: o.dnsNames, ...(o.ipAddresses ? { ipAddresses: o.ipAddresses } : {}) }, { validitySeconds: o.validitySeconds ?? o.signer.maxValiditySeconds });
    // leaf + intermediates; the root stays out (clients have it)
    provider.setIdentity(chain.slice(0, -1).join(''), keyToPem(k.privateKey));
    const x = new X509Certificate(chain[0]!);
    serial = x.serialNumber;
    o.onRenew?.(serial, x.validTo);
    timer = setTimeout(issue, renewInMs(Date.parse(x.validFrom), Date.parse(x.validTo), Date.now()));
    timer.unref();
  };
  issue();
  // a CA provider makes the server request (and verify) a client certificate; `false`: not required
  const caProvider = o.requestClientCert ? provider : (null as unknown as CertificateProvider);
  return {
    credentials: grpc.experimental.createCertificateProviderServerCredentials(caProvider, provider, false),
    serial: () => serial,
    close: () => { if (timer) clearTimeout(timer); },
  };
}
