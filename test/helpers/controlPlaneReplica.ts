// `meshfed control-plane` replicas as separate processes (what a Deployment with several replicas runs), for the
// high-availability tests and benches: start one, read its ports, ask its admin server, kill it.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { SecureServer } from '../../src/devcluster/secure.ts';
import { MESHFED_BIN } from './meshfed.ts';

export interface Replica { id: string; child: ChildProcessWithoutNullStreams; xds: number; admin: number; err: () => string }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `f` every 20 ms until it gives a value (not undefined/false); fails naming `what` after `ms`. */
export async function until<T>(what: string, ms: number, f: () => Promise<T | undefined | false> | T | undefined | false): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Lease timing flags for short test runs (client-go's defaults are 15s / 10s / 2s). */
export function leaseFlags(leaseS: number, renewS: number, retryMs: number): string[] {
  return ['--leader-elect-lease-duration', `${leaseS}s`, '--leader-elect-renew-deadline', `${renewS}s`, '--leader-elect-retry-period', `${retryMs}ms`];
}

/** Start `meshfed control-plane` as replica `id` of the control plane in cluster `cluster` (kubeconfig `file`). */
export async function startReplica(o: { kubeconfig: string; cluster: { name: string; network: string; region: string }; id: string; args?: string[]; xdsPort?: number }): Promise<Replica> {
  const child = spawn(process.execPath, [MESHFED_BIN, 'control-plane', '--kubeconfig', o.kubeconfig, '--cluster-name', o.cluster.name, '--network', o.cluster.network, '--region', o.cluster.region,
    '--host', '127.0.0.1', '--xds-port', String(o.xdsPort ?? 0), '--secure-port', '0', '--admin-port', '0', '--leader-elect-identity', o.id, ...(o.args ?? [])], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const line = await until(`replica ${o.id} to start`, 90_000, () => { assert.equal(child.exitCode, null, `${o.id} exited: ${err.slice(-3000)}`); return out.includes('"admin"') ? out.trim().split('\n')[0] : undefined; });
  const started = JSON.parse(line) as { xds: number; admin: number; replica: string };
  assert.equal(started.replica, o.id);
  return { id: o.id, child, xds: started.xds, admin: started.admin, err: () => err.slice(-3000) };
}

export async function adminJson<T>(r: Replica, path: string): Promise<T> {
  return (await (await fetch(`http://127.0.0.1:${r.admin}${path}`)).json()) as T;
}

export async function whenReady(r: Replica, ms = 60_000): Promise<void> {
  await until(`${r.id} ready`, ms, async () => (await fetch(`http://127.0.0.1:${r.admin}/readyz`).catch(() => undefined))?.status === 200);
}

/** Who holds the control plane's Lease, read at the stand-in ('' when nobody). */
export function leaseHolder(s: SecureServer): string {
  const info = s.store.info('coordination.k8s.io', 'leases');
  try { return String((s.store.get(info, 'meshfed-system', 'meshfed-control-plane').spec as { holderIdentity?: string }).holderIdentity ?? ''); } catch { return ''; }
}

/** SIGCONT + SIGTERM every replica still running and wait for their exit codes (null for one killed by a signal). */
export async function stopReplicas(replicas: readonly Replica[]): Promise<Array<number | null>> {
  for (const r of replicas) { r.child.kill('SIGCONT'); r.child.kill('SIGTERM'); }
  return Promise.all(replicas.map((r) => (r.child.exitCode !== null || r.child.signalCode !== null ? r.child.exitCode : new Promise<number | null>((res) => r.child.once('exit', res)))));
}
