// The fixture of the kubectl tests: a secure API stand-in started before the file's tests, a kubeconfig for it in a
// fresh temporary folder, and the kubectl client's minor version (for commands older kubectl lacks). Nothing is
// started when there is no kubectl (KUBECTL_MISSING); everything is closed and removed after the file's tests.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KUBECTL, KUBECTL_MISSING, kubectl, type RunResult } from './kubectl.ts';
import { standinTls } from '../../src/playground/standinTls.ts';
import { startSecureApiServer, type SecureServer } from '../../src/devcluster/secure.ts';
import { kubeconfigFor } from '../../src/devcluster/server.ts';

export interface KubectlStandin {
  /** the temporary folder: holds `kubeconfig` and whatever files a test writes */
  readonly dir: string;
  /** the kubeconfig's path */
  readonly kc: string;
  /** the kubectl client's minor version (32 for 1.32) */
  readonly minor: number;
  /** runs kubectl against the stand-in; never throws on a non-zero exit */
  k(...args: string[]): Promise<RunResult>;
  /** runs kubectl and fails the test, naming the command and kubectl's stderr, unless it exits 0; returns stdout */
  ok(...args: string[]): Promise<string>;
}

/** The kubectl client's minor version, e.g. 20 for Debian's 1.20 and 32 for 1.32 ("32+" counts as 32). */
export function kubectlClientMinor(): number {
  const v = JSON.parse(execFileSync(KUBECTL, ['version', '--client', '-o', 'json'], { encoding: 'utf8' })) as { clientVersion: { minor: string } };
  return Number(v.clientVersion.minor.replace(/\D.*$/, ''));
}

/**
 * Registers before/after hooks for a stand-in named `name` (its TLS names it too) with its kubeconfig under a temporary
 * folder prefixed `tmpPrefix`, beside `files` (name → content) the tests read. Call at the top of a test file.
 */
export function useKubectlStandin(name: string, tmpPrefix: string, files: Record<string, string | Uint8Array> = {}): KubectlStandin {
  let server: SecureServer | undefined;
  let dir = '';
  let minor = 0;
  const kc = () => join(dir, 'kubeconfig');
  const k = (...args: string[]) => kubectl(kc(), args);
  before(async () => {
    if (KUBECTL_MISSING) return;
    minor = kubectlClientMinor();
    server = await startSecureApiServer({ name, tls: standinTls(name) });
    dir = mkdtempSync(join(tmpdir(), tmpPrefix));
    writeFileSync(kc(), kubeconfigFor([server]), { mode: 0o600 });
    for (const [file, content] of Object.entries(files)) writeFileSync(join(dir, file), content);
  });
  after(async () => {
    if (!server) return;
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get dir() { return dir; },
    get kc() { return kc(); },
    get minor() { return minor; },
    k,
    async ok(...args: string[]) {
      const r = await k(...args);
      assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    },
  };
}
