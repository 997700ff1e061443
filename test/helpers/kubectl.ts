// Finds the kubectl the tests drive: $MESHFED_KUBECTL, else .tools/bin/kubectl (Debian's 1.20, put there by
// scripts/install-kubectl.sh, which .ci/run calls), else kubectl on PATH. CI runs the kubectl tests once per
// version: MESHFED_KUBECTL=/usr/bin/kubectl (1.32) and MESHFED_KUBECTL=.tools/bin/kubectl (1.20).
// KUBECTL_MISSING is the one-line reason to skip kubectl tests when there is none (use it as `{ skip: KUBECTL_MISSING }`).
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const local = fileURLToPath(new URL('../../.tools/bin/kubectl', import.meta.url));

export const KUBECTL = process.env.MESHFED_KUBECTL ? resolve(process.env.MESHFED_KUBECTL) : existsSync(local) ? local : 'kubectl';

const executable = (f: string) => { try { accessSync(f, constants.X_OK); return true; } catch { return false; } };
function findKubectl(): string | undefined {
  if (isAbsolute(KUBECTL)) return executable(KUBECTL) ? KUBECTL : undefined;
  return (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, KUBECTL)).find(executable);
}
/** Why kubectl tests cannot run here (a one-line skip message), or undefined when a kubectl was found. */
export const KUBECTL_MISSING: string | undefined = findKubectl() ? undefined
  : process.env.MESHFED_KUBECTL ? `MESHFED_KUBECTL=${process.env.MESHFED_KUBECTL} is not an executable kubectl`
    : 'no kubectl found (set MESHFED_KUBECTL=/path/to/kubectl, run scripts/install-kubectl.sh, or put kubectl on PATH)';

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
