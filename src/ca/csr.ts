// PKCS#10 certificate requests: parse + verify the self-signature with node crypto (EC and RSA), and build them.
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import * as der from './der.ts';
import { OID, sigAlg, spkiDer } from './x509.ts';

export class CsrError extends Error {}

export interface ParsedCsr {
  spki: Buffer;
  publicKey: KeyObject;
  uris: string[];
  dnsNames: string[];
}

const HASH_BY_SIG: Record<string, string> = {
  [OID.ecdsaSha256]: 'sha256', [OID.ecdsaSha384]: 'sha384',
  [OID.rsaSha256]: 'sha256', [OID.rsaSha384]: 'sha384', [OID.rsaSha512]: 'sha512',
};

/** Accepts ECDSA P-256/P-384 and RSA >= 2048; throws CsrError with the reason otherwise. */
export function checkKey(k: KeyObject): void {
  if (k.asymmetricKeyType === 'ec') {
    const c = k.asymmetricKeyDetails?.namedCurve;
    if (c !== 'prime256v1' && c !== 'secp384r1') throw new CsrError(`EC curve ${c} not accepted: use P-256 or P-384`);
    return;
  }
  if (k.asymmetricKeyType === 'rsa') {
    const bits = k.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw new CsrError(`RSA key of ${bits} bits not accepted: use at least 2048`);
    return;
  }
  throw new CsrError(`key type ${k.asymmetricKeyType} not accepted: use ECDSA P-256/P-384 or RSA >= 2048`);
}

const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
/** namedCurve OID → [JWK crv, coordinate bytes]: the only EC curves accepted (see checkKey). */
const EC_CURVES: Record<string, [string, number]> = { '1.2.840.10045.3.1.7': ['P-256', 32], '1.3.132.0.34': ['P-384', 48] };

/**
 * SubjectPublicKeyInfo DER → KeyObject, accepted kinds only. EC keys with an uncompressed point on an accepted
 * curve are imported as JWK (x, y): OpenSSL 3 validates the point there too, at under half the CPU of its generic
 * SPKI DER decoder, which was the largest single cost of a CSR check. Anything else goes through the DER decoder.
 */
export function importSpki(spki: Buffer): KeyObject {
  try {
    const [alg, bits] = der.children(der.read(spki));
    const [algOid, params] = der.children(der.expect(alg, 0x30, 'algorithm'));
    if (der.decodeOid(der.expect(algOid, 0x06, 'algorithm')) === OID_EC_PUBLIC_KEY && params?.tag === 0x06) {
      const curve = EC_CURVES[der.decodeOid(params)];
      const pt = der.expect(bits, 0x03, 'subjectPublicKey').value;
      if (curve && pt.length === 2 + 2 * curve[1] && pt[0] === 0 && pt[1] === 0x04) {
        const n = curve[1];
        try {
          return createPublicKey({ key: { kty: 'EC', crv: curve[0], x: pt.toString('base64url', 2, 2 + n), y: pt.toString('base64url', 2 + n) }, format: 'jwk' });
        } catch (e) {
          throw new CsrError(`csr public key unreadable: ${(e as Error).message}`);
        }
      }
    }
  } catch (e) {
    if (e instanceof CsrError) throw e;
    // not the EC fast path's shape: let the DER decoder judge it below
  }
  let k: KeyObject;
  try {
    k = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch (e) {
    throw new CsrError(`csr public key unreadable: ${(e as Error).message}`);
  }
  checkKey(k);
  return k;
}

export function parseCsr(pem: string): ParsedCsr {
  let d: Buffer;
  try {
    d = der.pemToDer(pem, 'CERTIFICATE REQUEST');
  } catch {
    throw new CsrError('csr is not a PEM "CERTIFICATE REQUEST"');
  }
  try {
    const top = der.children(der.expect(der.read(d), 0x30, 'CertificationRequest'));
    const info = der.expect(top[0], 0x30, 'certificationRequestInfo');
    const algOid = der.decodeOid(der.expect(der.children(der.expect(top[1], 0x30, 'signatureAlgorithm'))[0], 0x06, 'algorithm'));
    const sigBits = der.expect(top[2], 0x03, 'signature');
    const f = der.children(info);
    const spki = Buffer.from(der.expect(f[2], 0x30, 'subjectPKInfo').raw);
    const publicKey = importSpki(spki);
    const hash = HASH_BY_SIG[algOid];
    if (!hash) throw new CsrError(`csr signature algorithm ${algOid} not accepted`);
    const ok = verify(hash, info.raw, publicKey, sigBits.value.subarray(1));
    if (!ok) throw new CsrError('csr self-signature does not verify');
    const uris: string[] = [];
    const dnsNames: string[] = [];
    const attrs = f[3] && f[3].tag === 0xa0 ? der.children(f[3]) : [];
    for (const a of attrs) {
      const [t, vals] = der.children(a);
      if (der.decodeOid(t) !== OID.extensionRequest) continue;
      for (const exts of der.children(vals)) {
        for (const e of der.children(exts)) {
          const parts = der.children(e);
          if (der.decodeOid(parts[0]) !== OID.san) continue;
          const gns = der.children(der.read(parts[parts.length - 1].value));
          for (const g of gns) {
            if (g.tag === 0x86) uris.push(g.value.toString('utf8'));
            else if (g.tag === 0x82) dnsNames.push(g.value.toString('utf8'));
          }
        }
      }
    }
    return { spki, publicKey, uris, dnsNames };
  } catch (e) {
    if (e instanceof CsrError) throw e;
    throw new CsrError(`csr is not a valid PKCS#10 request: ${(e as Error).message}`);
  }
}

/** Build a PEM CSR with the given URI SANs (used by proxies and tests). */
export function buildCsr(key: { privateKey: KeyObject; publicKey: KeyObject }, uris: string[]): string {
  const san = der.seq(der.oid(OID.san), der.octets(der.seq(...uris.map((u) => der.tlv(0x86, Buffer.from(u))))));
  const attr = der.seq(der.oid(OID.extensionRequest), der.set(der.seq(san)));
  const info = der.seq(der.int(0), der.seq(), spkiDer(key.publicKey), der.ctx(0, attr));
  const { alg, hash } = sigAlg(key.privateKey);
  return der.derToPem(der.seq(info, alg, der.bits(sign(hash, info, key.privateKey))), 'CERTIFICATE REQUEST');
}
