// X.509 certificate building and signing with node's built-in crypto (no node-forge on the hot path).
import { hash as digest, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import * as der from './der.ts';

export type KeyType = 'ec-p256' | 'rsa-2048';

export const OID = {
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  rsaSha256: '1.2.840.113549.1.1.11',
  rsaSha384: '1.2.840.113549.1.1.12',
  rsaSha512: '1.2.840.113549.1.1.13',
  cn: '2.5.4.3',
  o: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  san: '2.5.29.17',
  ski: '2.5.29.14',
  aki: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  extensionRequest: '1.2.840.113549.1.9.14',
} as const;

export function generateKey(type: KeyType = 'ec-p256'): { privateKey: KeyObject; publicKey: KeyObject } {
  return type === 'rsa-2048'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

export function keyToPem(k: KeyObject): string {
  return k.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** Signature AlgorithmIdentifier and hash for a signing key. */
const algCache = new WeakMap<KeyObject, { alg: Buffer; hash: string }>();
export function sigAlg(key: KeyObject): { alg: Buffer; hash: string } {
  let a = algCache.get(key);
  if (!a) { a = sigAlgUncached(key); algCache.set(key, a); }
  return a;
}

function sigAlgUncached(key: KeyObject): { alg: Buffer; hash: string } {
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    return curve === 'secp384r1' ? { alg: der.seq(der.oid(OID.ecdsaSha384)), hash: 'sha384' } : { alg: der.seq(der.oid(OID.ecdsaSha256)), hash: 'sha256' };
  }
  if (key.asymmetricKeyType === 'rsa') return { alg: der.seq(der.oid(OID.rsaSha256), der.nul()), hash: 'sha256' };
  throw new Error(`unsupported signing key type ${key.asymmetricKeyType}`);
}

export function spkiDer(pub: KeyObject): Buffer {
  return pub.export({ type: 'spki', format: 'der' });
}

/** RFC 5280 method 1: SHA-1 of the subjectPublicKey BIT STRING contents. */
export function keyId(spki: Buffer): Buffer {
  const kids = der.children(der.read(spki));
  const bitstr = der.expect(kids[1], 0x03, 'SubjectPublicKeyInfo.subjectPublicKey');
  return digest('sha1', bitstr.value.subarray(1), 'buffer');
}

export function name(parts: { o?: string; cn?: string }): Buffer {
  const rdns: Buffer[] = [];
  if (parts.o) rdns.push(der.set(der.seq(der.oid(OID.o), der.utf8(parts.o))));
  if (parts.cn) rdns.push(der.set(der.seq(der.oid(OID.cn), der.utf8(parts.cn))));
  return der.seq(...rdns);
}

function ext(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? der.seq(der.oid(id), der.bool(true), der.octets(value)) : der.seq(der.oid(id), der.octets(value));
}

export interface CertSpec {
  /** DER Name */
  subject: Buffer;
  /** SubjectPublicKeyInfo DER of the certified key */
  spki: Buffer;
  notBefore: Date;
  notAfter: Date;
  /** CA certificate: pathLen (undefined = leaf) */
  ca?: { pathLen?: number };
  uris?: string[];
  dnsNames?: string[];
  /** IPv4 addresses (serving certificates reached by address, e.g. 127.0.0.1) */
  ipAddresses?: string[];
}

export interface Issuer {
  /** DER Name of the issuer (the issuer cert's subject, byte for byte) */
  name: Buffer;
  /** issuer key identifier */
  keyId: Buffer;
  key: KeyObject;
}

// CSPRNG bytes drawn in blocks: one randomBytes() per 1024 serials instead of one per certificate.
let pool = Buffer.alloc(0);
let poolOff = 0;
export function randomSerial(): Buffer {
  if (poolOff + 16 > pool.length) { pool = randomBytes(16 * 1024); poolOff = 0; }
  const s = Buffer.from(pool.subarray(poolOff, poolOff + 16));
  pool.fill(0, poolOff, poolOff + 16);
  poolOff += 16;
  s[0] &= 0x7f;
  if (s[0] === 0) s[0] = 1;
  return s;
}

function ipv4Bytes(ip: string): Buffer {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return Buffer.from(parts);
}

// Extensions that are the same for every leaf / every leaf of one issuer: encoded once.
let leafExtsDer: Buffer | undefined;
function leafExts(): Buffer {
  return (leafExtsDer ??= Buffer.concat([
    ext(OID.basicConstraints, true, der.seq()),
    ext(OID.keyUsage, true, der.bits(Buffer.from([0xa0]), 5)), // digitalSignature, keyEncipherment
    ext(OID.extKeyUsage, false, der.seq(der.oid(OID.serverAuth), der.oid(OID.clientAuth))),
  ]));
}
const akiCache = new WeakMap<Buffer, Buffer>();
function akiExt(issuer: Issuer): Buffer {
  let a = akiCache.get(issuer.keyId);
  if (!a) { a = ext(OID.aki, false, der.seq(der.tlv(0x80, issuer.keyId))); akiCache.set(issuer.keyId, a); }
  return a;
}

/** Build and sign a certificate; returns DER. */
export function buildCertificate(spec: CertSpec, issuer: Issuer): Buffer {
  const { alg, hash } = sigAlg(issuer.key);
  const exts: Buffer[] = [];
  if (spec.ca) {
    exts.push(ext(OID.basicConstraints, true, der.seq(der.bool(true), ...(spec.ca.pathLen !== undefined ? [der.int(spec.ca.pathLen)] : []))));
    exts.push(ext(OID.keyUsage, true, der.bits(Buffer.from([0x86]), 1))); // digitalSignature, keyCertSign, cRLSign
  } else {
    exts.push(leafExts());
  }
  const gn = [
    ...(spec.uris ?? []).map((u) => der.tlv(0x86, Buffer.from(u))),
    ...(spec.dnsNames ?? []).map((d) => der.tlv(0x82, Buffer.from(d))),
    ...(spec.ipAddresses ?? []).map((ip) => der.tlv(0x87, ipv4Bytes(ip))),
  ];
  const emptySubject = spec.subject.length <= 2;
  if (gn.length) exts.push(ext(OID.san, emptySubject, der.seq(...gn)));
  exts.push(ext(OID.ski, false, der.octets(keyId(spec.spki))));
  exts.push(akiExt(issuer));
  const tbs = der.seq(
    der.ctx(0, der.int(2)),
    der.int(randomSerial()),
    alg,
    issuer.name,
    der.seq(der.time(spec.notBefore), der.time(spec.notAfter)),
    spec.subject,
    spec.spki,
    der.ctx(3, der.seq(...exts)),
  );
  const sig = sign(hash, tbs, issuer.key);
  return der.seq(tbs, alg, der.bits(sig));
}

export function certPem(d: Buffer): string {
  return der.derToPem(d, 'CERTIFICATE');
}

/** The issuer view of an existing CA certificate and its key. */
export function issuerFrom(certPemText: string, key: KeyObject): Issuer {
  const certDer = der.pemToDer(certPemText, 'CERTIFICATE');
  const tbs = der.children(der.read(certDer))[0];
  const f = der.children(tbs);
  const subject = f[0].tag === 0xa0 ? f[5] : f[4];
  const x = new X509Certificate(certPemText);
  return { name: Buffer.from(subject.raw), keyId: keyId(spkiDer(x.publicKey)), key };
}

/** Self-signed root. */
export function selfSigned(key: { privateKey: KeyObject; publicKey: KeyObject }, subject: { o?: string; cn: string }, days: number): string {
  const spki = spkiDer(key.publicKey);
  const n = name(subject);
  const now = Date.now();
  const d = buildCertificate({ subject: n, spki, notBefore: new Date(now - 60_000), notAfter: new Date(now + days * 86400_000), ca: {} }, { name: n, keyId: keyId(spki), key: key.privateKey });
  return certPem(d);
}

export function splitPemChain(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g)?.map((s) => (s.endsWith('\n') ? s : s + '\n')) ?? [];
}


export interface ServingTls { ca: string; cert: string; key: string }

/** A new CA and one serving certificate it signs, as PEMs: the TLS of a local HTTPS server (an API stand-in). */
export function caWithServingCert(o: { caName: string; serverName: string; dnsNames: string[]; ipAddresses: string[]; days: number }): ServingTls {
  const caKey = generateKey();
  const ca = selfSigned(caKey, { cn: o.caName }, o.days);
  const caName = name({ cn: o.caName });
  const k = generateKey();
  const now = Date.now();
  const leaf = buildCertificate(
    { subject: name({ cn: o.serverName }), spki: spkiDer(k.publicKey), notBefore: new Date(now - 60_000), notAfter: new Date(now + o.days * 86400_000), dnsNames: o.dnsNames, ipAddresses: o.ipAddresses },
    { name: caName, keyId: keyId(spkiDer(caKey.publicKey)), key: caKey.privateKey },
  );
  return { ca, cert: certPem(leaf), key: keyToPem(k.privateKey) };
}
