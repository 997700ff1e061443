// Child processes of the playground (control plane, gateways, sidecars): each a real `meshfed …` process with its
// log in a file, started, waited on until it answers, and stopped (SIGTERM, then SIGKILL after a grace period).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MESHFED_BIN = fileURLToPath(new URL('../../../bin/meshfed.js', import.meta.url));

export interface ProcessSpec {
  name: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** resolves once the process is ready (e.g. a port answers); rejected → start fails */
  ready?: () => Promise<void>;
}

export interface Managed {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: Promise<number | null>;
}

export class Supervisor {
  private readonly procs = new Map<string, Managed>();
  private readonly specs = new Map<string, ProcessSpec>();

  constructor(private readonly logDir: string) {
    mkdirSync(logDir, { recursive: true });
  }

  async start(spec: ProcessSpec, readyTimeoutMs = 30_000): Promise<Managed> {
    if (this.procs.has(spec.name)) throw new Error(`process ${spec.name} is already running`);
    this.specs.set(spec.name, spec);
    const logFile = join(this.logDir, `${spec.name}.log`);
    const log = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(process.execPath, [MESHFED_BIN, ...spec.args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...spec.env } });
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const m: Managed = { name: spec.name, child, logFile, exited };
    this.procs.set(spec.name, m);
    exited.then(() => {
      if (this.procs.get(spec.name) === m) this.procs.delete(spec.name);
    });
    if (spec.ready) {
      const died = exited.then((code) => {
        throw new Error(`${spec.name} exited (code ${code}) before it was ready; see ${logFile}`);
      });
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${spec.name} was not ready after ${readyTimeoutMs} ms; see ${logFile}`)), readyTimeoutMs).unref());
      try {
        await Promise.race([spec.ready(), died, timeout]);
      } catch (e) {
        await this.stop(spec.name);
        throw e;
      }
    }
    return m;
  }

  /** Starts a stopped process again with the spec it had. */
  async restart(name: string): Promise<Managed> {
    const spec = this.specs.get(name);
    if (!spec) throw new Error(`unknown process ${name}`);
    await this.stop(name);
    return this.start(spec);
  }

  async stop(name: string, graceMs = 3000): Promise<void> {
    const m = this.procs.get(name);
    if (!m) return;
    this.procs.delete(name);
    if (m.child.exitCode === null && m.child.signalCode === null) {
      m.child.kill('SIGTERM');
      const t = setTimeout(() => m.child.kill('SIGKILL'), graceMs);
      await m.exited;
      clearTimeout(t);
    }
  }

  names(): string[] {
    return [...this.procs.keys()];
  }

  running(name: string): boolean {
    return this.procs.has(name);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.procs.keys()].map((n) => this.stop(n)));
  }
}

/** Resolves once host:port accepts a TCP connection (polls every 50 ms). */
export async function waitForPort(host: string, port: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host, port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${host}:${port} did not accept connections within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resolves once GET url answers 200 (polls every 100 ms). */
export async function waitForHttp(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (r.status === 200) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
