// Offline root + per-cluster intermediates in Istio's plug-in CA layout, and loading a signing intermediate.
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { buildCertificate, certPem, generateKey, issuerFrom, keyToPem, name, selfSigned, spkiDer, type KeyType } from './x509.ts';
import { Signer, type CaMaterial } from './signer.ts';
import type { Logger } from '../log.ts';

export interface InitOptions {
  out: string;
  trustDomain?: string;
  org?: string;
  clusters?: string[];
  keyType?: KeyType;
  force?: boolean;
  rootDays?: number;
  intermediateDays?: number;
}

export class CaFileError extends Error {}

function writeKey(path: string, pem: string, force: boolean): void {
  if (existsSync(path) && !force) throw new CaFileError(`${path} exists: refusing to overwrite a key (use --force)`);
  writeFileSync(path, pem, { mode: 0o600 });
  chmodSync(path, 0o600);
}

export function makeIntermediate(rootCertPem: string, rootKeyPem: string, cluster: string, org: string, keyType: KeyType, days: number): { certPem: string; keyPem: string } {
  const k = generateKey(keyType);
  const spki = spkiDer(k.publicKey);
  const issuer = issuerFrom(rootCertPem, createPrivateKey(rootKeyPem));
  const rootNotAfter = Date.parse(new X509Certificate(rootCertPem).validTo);
  const now = Date.now();
  const d = buildCertificate({ subject: name({ o: org, cn: `Intermediate CA ${cluster}` }), spki, notBefore: new Date(now - 60_000), notAfter: new Date(Math.min(now + days * 86400_000, rootNotAfter)), ca: { pathLen: 0 } }, issuer);
  return { certPem: certPem(d), keyPem: keyToPem(k.privateKey) };
}

export function writeIntermediates(dir: string, rootCertPem: string, rootKeyPem: string, clusters: string[], org: string, keyType: KeyType, days: number, force: boolean): void {
  for (const c of clusters) {
    const cdir = join(dir, c);
    mkdirSync(cdir, { recursive: true });
    const im = makeIntermediate(rootCertPem, rootKeyPem, c, org, keyType, days);
    writeKey(join(cdir, 'ca-key.pem'), im.keyPem, force);
    writeFileSync(join(cdir, 'ca-cert.pem'), im.certPem);
    writeFileSync(join(cdir, 'cert-chain.pem'), im.certPem + rootCertPem);
    writeFileSync(join(cdir, 'root-cert.pem'), rootCertPem);
  }
}

/** `meshfed ca init`: returns the files written. */
export function initCa(o: InitOptions): string[] {
  const force = o.force ?? false;
  const keyType = o.keyType ?? 'ec-p256';
  const org = o.org ?? 'meshfed';
  const clusters = o.clusters ?? [];
  for (const c of clusters) if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(c)) throw new CaFileError(`cluster name "${c}" is not a DNS label`);
  const rootKeyPath = join(o.out, 'root-key.pem');
  if (!force) {
    for (const p of [rootKeyPath, ...clusters.map((c) => join(o.out, c, 'ca-key.pem'))]) {
      if (existsSync(p)) throw new CaFileError(`${p} exists: refusing to overwrite a key (use --force)`);
    }
  }
  mkdirSync(o.out, { recursive: true });
  const k = generateKey(keyType);
  const rootPem = selfSigned(k, { o: org, cn: `meshfed root CA (${o.trustDomain ?? 'cluster.local'})` }, o.rootDays ?? 3650);
  const rootKeyPem = keyToPem(k.privateKey);
  writeKey(rootKeyPath, rootKeyPem, force);
  writeFileSync(join(o.out, 'root-cert.pem'), rootPem);
  writeIntermediates(o.out, rootPem, rootKeyPem, clusters, org, keyType, o.intermediateDays ?? 365, force);
  return [rootKeyPath, join(o.out, 'root-cert.pem'), ...clusters.flatMap((c) => ['ca-cert.pem', 'ca-key.pem', 'cert-chain.pem', 'root-cert.pem'].map((f) => join(o.out, c, f)))];
}

export function loadCaDir(dir: string): CaMaterial {
  const read = (f: string): string => {
    const p = join(dir, f);
    try {
      return readFileSync(p, 'utf8');
    } catch (e) {
      throw new CaFileError(`cannot read ${p}: ${(e as Error).message} (expected Istio plug-in layout: ca-cert.pem, ca-key.pem, cert-chain.pem, root-cert.pem)`);
    }
  };
  return { caCertPem: read('ca-cert.pem'), caKeyPem: read('ca-key.pem'), certChainPem: read('cert-chain.pem'), rootCertPem: read('root-cert.pem') };
}

/** Minimal view of client-node's CoreV1Api used to read the `cacerts` Secret. */
export interface SecretReader {
  readNamespacedSecret(req: { name: string; namespace: string }): Promise<{ data?: Record<string, string> }>;
}

export async function loadCaSecret(api: SecretReader, namespace = 'meshfed-system', secretName = 'cacerts'): Promise<CaMaterial> {
  const s = await api.readNamespacedSecret({ name: secretName, namespace });
  const get = (k: string): string => {
    const v = s.data?.[k];
    if (!v) throw new CaFileError(`Secret ${namespace}/${secretName} has no key ${k}`);
    return Buffer.from(v, 'base64').toString('utf8');
  };
  return { caCertPem: get('ca-cert.pem'), caKeyPem: get('ca-key.pem'), certChainPem: get('cert-chain.pem'), rootCertPem: get('root-cert.pem') };
}

/** Self-signed development root + intermediate in memory; logs a loud warning. */
export function devCa(log?: Logger, trustDomain = 'cluster.local'): CaMaterial {
  const msg = 'NO CA CONFIGURED: generated a self-signed DEVELOPMENT root in memory — not for production; run `meshfed ca init` and plug in the cacerts';
  if (log) log.warn({ trustDomain }, msg);
  else process.stderr.write(`WARNING: ${msg}\n`);
  const k = generateKey();
  const rootPem = selfSigned(k, { o: 'meshfed-dev', cn: `meshfed DEV root (${trustDomain})` }, 30);
  const im = makeIntermediate(rootPem, keyToPem(k.privateKey), 'dev', 'meshfed-dev', 'ec-p256', 30);
  return { caCertPem: im.certPem, caKeyPem: im.keyPem, certChainPem: im.certPem + rootPem, rootCertPem: rootPem };
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Every certificate PEM block in a text, each ending in a newline. */
export function splitPems(text: string): string[] {
  return (text.match(PEM_CERT) ?? []).map((p) => p.trim() + '\n');
}

/**
 * Pure check of a signing intermediate before it is used: each part parses, the key matches the certificate, the
 * intermediate is a CA, currently valid, and signed by a certificate in cert-chain.pem or root-cert.pem.
 * `where(key)` names the file or Secret key in the error so the operator knows what to fix.
 */
export function checkCaMaterial(m: CaMaterial, where: (key: string) => string, now = Date.now()): void {
  const cert = (key: string, pem: string): X509Certificate => {
    try {
      return new X509Certificate(pem);
    } catch (e) {
      throw new CaFileError(`${where(key)} is not a PEM certificate: ${(e as Error).message}`);
    }
  };
  const ca = cert('ca-cert.pem', m.caCertPem);
  let key: KeyObject;
  try {
    key = createPrivateKey(m.caKeyPem);
  } catch (e) {
    throw new CaFileError(`${where('ca-key.pem')} is not a readable private key: ${(e as Error).message}`);
  }
  if (!ca.checkPrivateKey(key)) throw new CaFileError(`${where('ca-key.pem')} does not match ${where('ca-cert.pem')} (subject ${ca.subject.replace(/\n/g, ', ')}): they must be the intermediate's key and certificate`);
  if (!ca.ca) throw new CaFileError(`${where('ca-cert.pem')} is not a CA certificate (basicConstraints CA:TRUE missing)`);
  const notAfter = Date.parse(ca.validTo);
  if (notAfter <= now) throw new CaFileError(`${where('ca-cert.pem')} expired on ${ca.validTo}: issue a new intermediate (meshfed ca init / rotate-root)`);
  if (Date.parse(ca.validFrom) > now + 60_000) throw new CaFileError(`${where('ca-cert.pem')} is not valid before ${ca.validFrom}: check the clock`);
  const roots = splitPems(m.rootCertPem);
  if (roots.length === 0) throw new CaFileError(`${where('root-cert.pem')} holds no PEM certificate`);
  roots.forEach((r) => cert('root-cert.pem', r));
  const chain = splitPems(m.certChainPem);
  if (chain.length === 0) throw new CaFileError(`${where('cert-chain.pem')} holds no PEM certificate`);
  const parents = [...chain, ...roots].map((p) => cert('cert-chain.pem', p)).filter((p) => p.fingerprint256 !== ca.fingerprint256);
  if (!parents.some((p) => ca.checkIssued(p) && ca.verify(p.publicKey))) {
    throw new CaFileError(`${where('ca-cert.pem')} is not signed by any certificate in ${where('cert-chain.pem')} or ${where('root-cert.pem')}`);
  }
}

export interface LoadSigningCaOptions {
  /** an Istio plug-in directory: ca-cert.pem, ca-key.pem, cert-chain.pem, root-cert.pem */
  dir?: string;
  /** the control-plane cluster, to read Secret `cacerts` */
  kubeConfig?: k8s.KubeConfig;
  /** where Secret `cacerts` lives (default meshfed-system) */
  namespace?: string;
  /** alternative to kubeConfig (tests, callers holding a CoreV1Api) */
  secrets?: SecretReader;
  trustDomain: string;
  log?: Logger;
  maxValiditySeconds?: number;
  now?: number;
}

export interface SigningCa {
  signer: Signer;
  source: 'dir' | 'secret' | 'dev';
  /** every root in force (the trust bundle) */
  roots: string[];
  material: CaMaterial;
}

/** Where the control plane gets its signing intermediate: a plug-in dir, else Secret <ns>/cacerts, else a dev root (loud). */
export async function loadSigningCa(o: LoadSigningCaOptions): Promise<SigningCa> {
  const namespace = o.namespace ?? 'meshfed-system';
  const done = (material: CaMaterial, source: SigningCa['source'], where: (k: string) => string): SigningCa => {
    checkCaMaterial(material, where, o.now);
    return { signer: new Signer(material, o.maxValiditySeconds), source, roots: splitPems(material.rootCertPem), material };
  };
  if (o.dir) {
    const dir = o.dir;
    return done(loadCaDir(dir), 'dir', (k) => join(dir, k));
  }
  const secrets = o.secrets ?? o.kubeConfig?.makeApiClient(k8s.CoreV1Api);
  if (secrets) {
    let material: CaMaterial | undefined;
    try {
      material = await loadCaSecret(secrets, namespace);
    } catch (e) {
      if (e instanceof CaFileError) throw e;
      const code = (e as { code?: number }).code;
      if (code !== 404) throw new CaFileError(`reading Secret ${namespace}/cacerts: ${(e as Error).message}`);
    }
    if (material) return done(material, 'secret', (k) => `Secret ${namespace}/cacerts key ${k}`);
  }
  return done(devCa(o.log, o.trustDomain), 'dev', (k) => `development CA ${k}`);
}
