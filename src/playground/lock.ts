// One playground at a time: `dev up` writes a state file (pid, control address, paths); a second `dev up` finds it,
// checks that the pid is alive, and says a playground is already running instead of failing on ports.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface PlaygroundState {
  pid: number;
  startedAt: string;
  /** http://127.0.0.1:PORT of the playground's control endpoint (failover, restore, call) */
  control: string;
  kubeconfig: string;
  admin: string;
  contexts: string[];
}

export function readState(file: string): PlaygroundState | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as PlaygroundState;
  } catch {
    return undefined;
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running playground's state, or undefined (a stale file from a crashed run is removed). */
export function runningPlayground(file: string): PlaygroundState | undefined {
  const s = readState(file);
  if (!s) return undefined;
  if (pidAlive(s.pid) && s.pid !== process.pid) return s;
  rmSync(file, { force: true });
  return undefined;
}

export function writeState(file: string, s: PlaygroundState): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file + '.tmp', JSON.stringify(s, null, 2));
  // rename is atomic: a reader sees the old file or the new one, never half of one
  renameSync(file + '.tmp', file);
}

export function removeState(file: string): void {
  rmSync(file, { force: true });
}
