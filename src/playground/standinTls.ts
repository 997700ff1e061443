// The serving TLS of a local API stand-in: a CA of its own and a certificate for 127.0.0.1, localhost and the
// address it listens on, made by the mesh CA's certificate builder (the stand-in takes it from its caller).
// With a data dir it is kept in <dir>/<cluster>.tls.json (mode 0600) and reused while it is valid for another day and
// names the address, so a kubeconfig written before a restart keeps working.
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { join } from 'node:path';
import { caWithServingCert } from '../ca/x509.ts';
import type { TlsMaterial } from '../devcluster/types.ts';

export function standinTls(cluster: string, host = '127.0.0.1', dataDir?: string): TlsMaterial {
  const ipAddresses = [...new Set(['127.0.0.1', ...(isIPv4(host) && host !== '0.0.0.0' ? [host] : [])])];
  const file = dataDir ? join(dataDir, `${cluster}.tls.json`) : undefined;
  const kept = file ? usable(file, ipAddresses) : undefined;
  if (kept) return kept;
  const tls = caWithServingCert({ caName: `${cluster}-devcluster-ca`, serverName: 'kube-apiserver', dnsNames: ['localhost', 'kubernetes.default.svc'], ipAddresses, days: 365 });
  if (file) {
    mkdirSync(dataDir!, { recursive: true });
    writeFileSync(file, JSON.stringify(tls), { mode: 0o600 });
  }
  return tls;
}

/** the kept material, if it parses, is valid for another day and names every address; else undefined (made anew) */
function usable(file: string, ipAddresses: string[]): TlsMaterial | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const t = JSON.parse(readFileSync(file, 'utf8')) as TlsMaterial;
    const cert = new X509Certificate(t.cert);
    const fresh = Date.parse(cert.validTo) > Date.now() + 86_400_000;
    return fresh && t.key && t.ca && ipAddresses.every((ip) => cert.checkIP(ip)) ? t : undefined;
  } catch {
    return undefined;
  }
}
