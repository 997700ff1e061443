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

const EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const EC_CURVES: Record<string, { crv: string; size: number }> = {
  '1.2.840.10045.3.1.7': { crv: 'P-256', size: 32 },
  '1.3.132.0.34': { crv: 'P-384', size: 48 },
};

/**
 * The CSR's public key, checked against the accepted types. ECDSA P-256/P-384 keys with an uncompressed point are
 * built from their coordinates (JWK import: OpenSSL 3's generic DER decoder costs ~2.5x more per key); OpenSSL
 * still validates the point lies on the curve. Everything else goes through the DER decoder and checkKey().
 */
export function csrPublicKey(spki: Buffer): KeyObject {
  let fast: { crv: string; x: Buffer; y: Buffer } | undefined;
  try {
    const [algId, bitstr] = der.children(der.read(spki));
    const [alg, params] = der.children(algId);
    const curve = params && params.tag === 0x06 && der.decodeOid(alg) === EC_PUBLIC_KEY ? EC_CURVES[der.decodeOid(params)] : undefined;
    const pt = bitstr.value;
    if (curve && bitstr.tag === 0x03 && pt.length === 2 + 2 * curve.size && pt[0] === 0 && pt[1] === 0x04) {
      fast = { crv: curve.crv, x: pt.subarray(2, 2 + curve.size), y: pt.subarray(2 + curve.size) };
    }
  } catch (e) {
    throw new CsrError(`csr public key unreadable: ${(e as Error).message}`);
  }
  let k: KeyObject;
  try {
    k = fast
      ? createPublicKey({ key: { kty: 'EC', crv: fast.crv, x: fast.x.toString('base64url'), y: fast.y.toString('base64url') }, format: 'jwk' })
      : createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch (e) {
    throw new CsrError(`csr public key unreadable: ${(e as Error).message}`);
  }
  if (!fast) checkKey(k);
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
    const publicKey = csrPublicKey(spki);
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

/** Build a PEM CSR with the given URI SANs and an empty subject (every CSR of the project: proxies, tests, benches). */
export function buildCsr(key: { privateKey: KeyObject; publicKey: KeyObject }, uris: string[]): string {
  const san = der.seq(der.oid(OID.san), der.octets(der.seq(...uris.map((u) => der.tlv(0x86, Buffer.from(u))))));
  const attr = der.seq(der.oid(OID.extensionRequest), der.set(der.seq(san)));
  const info = der.seq(der.int(0), der.seq(), spkiDer(key.publicKey), der.ctx(0, attr));
  const { alg, hash } = sigAlg(key.privateKey);
  return der.derToPem(der.seq(info, alg, der.bits(sign(hash, info, key.privateKey))), 'CERTIFICATE REQUEST');
}

/** A workload's CSR: its SPIFFE ID as the one URI SAN (what the sidecar and the gateway send the CA). */
export function workloadCsr(key: { privateKey: KeyObject; publicKey: KeyObject }, spiffeId: string): string {
  if (!/^spiffe:\/\/[\x21-\x7e]+$/.test(spiffeId)) throw new CsrError(`CSR: ${JSON.stringify(spiffeId)} is not a SPIFFE ID (spiffe://<trust domain>/<path>)`);
  return buildCsr(key, [spiffeId]);
}
