// Runs the meshfed CLI as a user would: a separate `node bin/meshfed.js …` process.
import { fileURLToPath } from 'node:url';
import { run, type RunResult } from './kubectl.ts';

export const MESHFED_BIN = fileURLToPath(new URL('../../bin/meshfed.js', import.meta.url));

export function meshfed(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return run(process.execPath, [MESHFED_BIN, ...args], opts.input, { ...process.env, ...opts.env });
}
