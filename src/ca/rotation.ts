// Root rotation: new root + intermediates, old root kept in the trust bundle during the overlap.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { CaFileError, initCa, type InitOptions } from './files.ts';
import { splitPemChain } from './x509.ts';

/** Bundle = all roots in force, deduplicated, expired ones dropped. */
export function mergeBundle(pems: string[], now = Date.now()): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const p of pems.flatMap(splitPemChain)) {
    const x = new X509Certificate(p);
    if (seen.has(x.fingerprint256) || Date.parse(x.validTo) < now) continue;
    seen.add(x.fingerprint256);
    out.push(p);
  }
  return out.join('');
}

/**
 * `meshfed ca rotate-root --dir DIR`: the current root (and intermediates) move to DIR/previous-<timestamp>/,
 * a new root and new intermediates for the same clusters are written, and DIR/trust-bundle.pem plus every
 * DIR/<cluster>/root-cert.pem carry both roots. Returns the bundle path.
 */
export function rotateRoot(dir: string, o: Omit<InitOptions, 'out' | 'clusters' | 'force'> = {}): { bundlePath: string; archived: string; clusters: string[] } {
  const rootPath = join(dir, 'root-cert.pem');
  if (!existsSync(rootPath)) throw new CaFileError(`${rootPath} not found: run \`meshfed ca init\` first`);
  const oldRoot = readFileSync(rootPath, 'utf8');
  const oldBundlePath = join(dir, 'trust-bundle.pem');
  const oldBundle = existsSync(oldBundlePath) ? readFileSync(oldBundlePath, 'utf8') : oldRoot;
  const clusters = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'ca-key.pem'))).map((d) => d.name);
  const archived = join(dir, `previous-${new Date().toISOString().replace(/[:.]/g, '')}`);
  mkdirSync(archived);
  for (const f of ['root-cert.pem', 'root-key.pem']) renameSync(join(dir, f), join(archived, f));
  for (const c of clusters) renameSync(join(dir, c), join(archived, c));
  initCa({ ...o, out: dir, clusters, force: false });
  const newRoot = readFileSync(rootPath, 'utf8');
  const bundle = mergeBundle([newRoot, oldBundle]);
  const bundlePath = join(dir, 'trust-bundle.pem');
  writeFileSync(bundlePath, bundle);
  for (const c of clusters) writeFileSync(join(dir, c, 'root-cert.pem'), bundle);
  return { bundlePath, archived, clusters };
}
