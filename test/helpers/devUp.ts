// `meshfed dev up` (= npm start) as a user runs it: a separate process, here on any free ports and with a state
// directory of its own; ready when it prints its summary. `meshfed dev failover|restore|call` find it by that
// directory (stateArgs).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readState, type PlaygroundState } from '../../src/playground/lock.ts';
import { MESHFED_BIN } from './meshfed.ts';

export interface DevUp {
  child: ChildProcess;
  dir: string;
  /** --state-dir DIR, for the other `meshfed dev` commands */
  stateArgs: string[];
  /** what it wrote to its state file: admin and control addresses, kubeconfig */
  state: PlaygroundState;
  stdout(): string;
  stderr(): string;
  /** Ctrl-C, its exit, and the state directory removed */
  stop(): Promise<void>;
}

export async function startDevUp(opts: { topology?: string; timeoutMs?: number } = {}): Promise<DevUp> {
  const dir = mkdtempSync(join(tmpdir(), 'meshfed-devup-'));
  const stateArgs = ['--state-dir', dir];
  const args = [MESHFED_BIN, 'dev', 'up', ...stateArgs, '--xds-port', '0', '--secure-port', '0', '--admin-port', '0', ...(opts.topology ? ['--topology', opts.topology] : [])];
  const child = spawn(process.execPath, args, { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 180_000); // generous: a loaded CI machine starts node slowly
  while (!out.includes('Ctrl-C stops everything')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`dev up ${child.exitCode !== null ? `exited ${child.exitCode}` : 'did not finish starting'}:\n${out}\n${err.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const state = readState(join(dir, 'state.json'));
  if (!state?.admin) { await stop(); throw new Error(`dev up wrote no admin address to ${dir}/state.json`); }
  return { child, dir, stateArgs, state, stdout: () => out, stderr: () => err, stop };
}
