// Workload key and CSR: ECDSA P-256 via node crypto, PKCS#10 with the SPIFFE ID as URI SAN (hand-built DER;
// node crypto has no CSR API and node-forge has no ECDSA).
import { createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

function der(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  if (n > 0xffff) throw new Error('CSR component too large');
  return Buffer.concat([Buffer.from([tag]), len, content]);
}
const seq = (...parts: Buffer[]) => der(0x30, Buffer.concat(parts));
const OID_O = Buffer.from([0x06, 0x03, 0x55, 0x04, 0x0a]);
const OID_EXT_REQ = Buffer.from([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e]);
const OID_SAN = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x11]);
const OID_ECDSA_SHA256 = Buffer.from([0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]);

export interface WorkloadKey { privateKey: KeyObject; privateKeyPem: string }

export function newWorkloadKey(): WorkloadKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { privateKey, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** PEM CSR for `spiffeUri`, signed by `key`. */
export function buildCsr(key: KeyObject, spiffeUri: string, organization = 'meshfed'): string {
  if (!/^spiffe:\/\/[^\s]+$/.test(spiffeUri) || !/^[\x20-\x7e]+$/.test(spiffeUri)) throw new Error(`CSR: ${JSON.stringify(spiffeUri)} is not a SPIFFE ID`);
  const spki = Buffer.from(createPublicKey(key).export({ type: 'spki', format: 'der' }));
  const name = seq(der(0x31, seq(OID_O, der(0x0c, Buffer.from(organization, 'utf8')))));
  const san = seq(der(0x86, Buffer.from(spiffeUri, 'ascii')));
  const extensions = seq(seq(OID_SAN, der(0x04, san)));
  const attrs = der(0xa0, seq(OID_EXT_REQ, der(0x31, extensions)));
  const info = seq(der(0x02, Buffer.from([0])), name, spki, attrs);
  const sig = sign('sha256', info, { key, dsaEncoding: 'der' });
  const csr = seq(info, seq(OID_ECDSA_SHA256), der(0x03, Buffer.concat([Buffer.from([0]), sig])));
  const b64 = csr.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE REQUEST-----\n${b64}-----END CERTIFICATE REQUEST-----\n`;
}
