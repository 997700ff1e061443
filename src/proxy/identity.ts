// Workload identity: key + CSR → CA → certificate chain; renewed at half-life; trust bundle = the chain's root.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pRetry from 'p-retry';
import type { Logger } from '../log.ts';
import { requestCertificate } from '../ca/client.ts';
import { workloadCsr } from '../ca/csr.ts';
import { generateKey, keyToPem } from '../ca/x509.ts';

export interface Credentials { key: string; cert: string; ca: string; notAfter: number }

/** When to renew: half-way through the certificate's life, never sooner than minMs from now. */
export function renewDelayMs(notBefore: number, notAfter: number, now: number, minMs = 1000): number {
  return Math.max(minMs, notBefore + (notAfter - notBefore) / 2 - now);
}

export function credentialsFromChain(keyPem: string, chain: string[]): Credentials {
  if (chain.length === 0) throw new Error('CA returned an empty certificate chain');
  const leaf = new X509Certificate(chain[0]!);
  const root = chain.length > 1 ? chain[chain.length - 1]! : chain[0]!;
  const certChain = (chain.length > 1 ? chain.slice(0, -1) : chain).map((c) => c.trim()).join('\n') + '\n';
  return { key: keyPem, cert: certChain, ca: root, notAfter: Date.parse(leaf.validTo) };
}

export interface IdentityOptions { /** stops the first fetch's retries */ signal?: AbortSignal; caAddress: string; /** TLS name verified on the CA's certificate (default: the host of caAddress) */ caServerName?: string; caCertFile: string; tokenFile: string; cluster: string; spiffeId: string; log: Logger }

export async function fetchCredentials(o: IdentityOptions): Promise<Credentials & { notBefore: number }> {
  const k = generateKey();
  const token = readFileSync(o.tokenFile, 'utf8').trim();
  const caCertPem = readFileSync(o.caCertFile, 'utf8');
  const chain = await requestCertificate({ address: o.caAddress, ...(o.caServerName ? { serverName: o.caServerName } : {}), caCertPem, token, cluster: o.cluster, csrPem: workloadCsr(k, o.spiffeId) });
  const c = credentialsFromChain(keyToPem(k.privateKey), chain);
  return { ...c, notBefore: Date.parse(new X509Certificate(chain[0]!).validFrom) };
}

/**
 * The longest wait between attempts at the first certificate: a pod without one is not ready, so it asks again at
 * least every second and is served within ~1 s of its CA coming up (p-retry caps the jittered wait at this).
 */
export const FIRST_CERTIFICATE_MAX_WAIT_MS = 1000;

/**
 * Fetch until it works (the CA may come up after the sidecar: backoff with jitter, 200 ms doubling to 1 s, one log
 * line when it starts failing and one when it recovers), then keep renewing at half-life (retrying every 5 s).
 */
export async function keepCredentials(o: IdentityOptions, onUpdate: (c: Credentials) => void): Promise<{ first: Credentials; stop: () => void }> {
  let failing = '';
  const first = await pRetry(() => fetchCredentials(o), {
    retries: Infinity, minTimeout: 200, maxTimeout: FIRST_CERTIFICATE_MAX_WAIT_MS, factor: 2, randomize: true, ...(o.signal ? { signal: o.signal } : {}),
    onFailedAttempt: ({ error }: { error: Error }) => {
      if (error.message !== failing) o.log.warn({ ca: o.caAddress, err: error.message }, 'cannot get a workload certificate yet; retrying with backoff');
      failing = error.message;
    },
  });
  if (failing) o.log.info({ ca: o.caAddress }, 'workload certificate issued after retries');
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = (ms: number): void => { if (!stopped) timer = setTimeout(renew, ms); };
  const renew = (): void => {
    fetchCredentials(o).then(
      (c) => { onUpdate(c); o.log.info({ notAfter: new Date(c.notAfter).toISOString() }, 'workload certificate renewed'); schedule(renewDelayMs(c.notBefore, c.notAfter, Date.now())); },
      (e: Error) => { o.log.warn({ err: e.message }, 'certificate renewal failed; retrying in 5s'); schedule(5000); },
    );
  };
  schedule(renewDelayMs(first.notBefore, first.notAfter, Date.now()));
  return { first, stop: () => { stopped = true; if (timer) clearTimeout(timer); } };
}
