// Finds the kubectl the tests drive: $MESHFED_KUBECTL, else .tools/bin/kubectl (Debian's 1.20, put there by
// scripts/install-kubectl.sh, which .ci/run calls), else kubectl on PATH.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const local = fileURLToPath(new URL('../../.tools/bin/kubectl', import.meta.url));

export const KUBECTL = process.env.MESHFED_KUBECTL ?? (existsSync(local) ? local : 'kubectl');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl with the given kubeconfig; never throws on a non-zero exit (tests assert on it). */
export function kubectl(kubeconfig: string, args: string[], input?: string): Promise<RunResult> {
  return run(KUBECTL, ['--kubeconfig', kubeconfig, ...args], input);
}

export function run(cmd: string, args: string[], input?: string, env?: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: 60_000, maxBuffer: 64 << 20, env: env ?? process.env }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? ((err as unknown as { code: number }).code) : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}
