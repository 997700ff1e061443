// Human-readable description of a certificate or chain (`meshfed ca inspect`).
import { X509Certificate } from 'node:crypto';
import { splitPemChain } from './x509.ts';

export interface CertSummary {
  subject: string;
  issuer: string;
  sans: string[];
  spiffeId?: string;
  notBefore: string;
  notAfter: string;
  ca: boolean;
  /** signed by the next certificate in the file */
  signedByNext?: boolean;
}

export function summarize(pem: string): CertSummary[] {
  const certs = splitPemChain(pem).map((p) => new X509Certificate(p));
  if (certs.length === 0) throw new Error('no PEM CERTIFICATE blocks found');
  return certs.map((c, i) => {
    const sans = (c.subjectAltName ?? '').split(/,\s*/).filter(Boolean);
    const spiffe = sans.find((s) => s.startsWith('URI:spiffe://'))?.slice(4);
    const next = certs[i + 1];
    return {
      subject: (c.subject ?? '').replace(/\n/g, ', ') || '(empty)',
      issuer: (c.issuer ?? '').replace(/\n/g, ', '),
      sans,
      ...(spiffe ? { spiffeId: spiffe } : {}),
      notBefore: new Date(c.validFrom).toISOString(),
      notAfter: new Date(c.validTo).toISOString(),
      ca: c.ca,
      ...(next ? { signedByNext: c.verify(next.publicKey) } : {}),
    };
  });
}

export function formatSummary(s: CertSummary[]): string[] {
  const out: string[] = [];
  s.forEach((c, i) => {
    const role = c.ca ? (c.subject === c.issuer ? 'root' : 'intermediate') : 'leaf';
    out.push(`[${i}] ${role}`);
    out.push(`  subject:   ${c.subject}`);
    out.push(`  issuer:    ${c.issuer}`);
    out.push(`  SANs:      ${c.sans.length ? c.sans.join(', ') : '(none)'}`);
    if (c.spiffeId) out.push(`  SPIFFE ID: ${c.spiffeId}`);
    out.push(`  valid:     ${c.notBefore} → ${c.notAfter}`);
    if (c.signedByNext !== undefined) out.push(`  chain:     ${c.signedByNext ? `signed by [${i + 1}]` : `NOT signed by [${i + 1}] — chain out of order`}`);
  });
  return out;
}
