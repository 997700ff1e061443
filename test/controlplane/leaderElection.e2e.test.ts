// Two `meshfed control-plane` processes against API stand-ins: one leader writes, the other takes over when the
// leader is paused (SIGSTOP) in the middle of replicating 400 Services, and the paused one, resumed after its lease
// ran out, sends no write at all (fencing). Every write request is seen at the stand-ins with the replica's
// User-Agent, so "who wrote" is read from the API servers, not from the control planes' own accounts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTopologyCluster } from '../../src/devcluster/playground.ts';
import { kubeconfigFor } from '../../src/devcluster/server.ts';
import type { SecureServer } from '../../src/devcluster/secure.ts';
import { MESHFED_BIN, meshfed } from '../helpers/meshfed.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SERVICES = 400;
const LEASE_S = 4;
const TIMING = ['--leader-elect-lease-duration', `${LEASE_S}s`, '--leader-elect-renew-deadline', '3s', '--leader-elect-retry-period', '500ms'];

interface Write { at: number; replica: string; method: string; path: string; cluster: string }
interface Replica { id: string; child: ChildProcessWithoutNullStreams; admin: number; err: () => string }

/** Record every non-GET request a control-plane replica makes to this stand-in. */
function recordWrites(s: SecureServer, writes: Write[]): void {
  const authenticate = s.hooks.authenticate.bind(s.hooks);
  s.hooks.authenticate = (req) => {
    const ua = req.headers['user-agent'] ?? '';
    const m = /^meshfed-control-plane\/(\S+)/.exec(ua);
    if (m && req.method !== 'GET') writes.push({ at: performance.now(), replica: m[1]!, method: req.method ?? '', path: req.url ?? '', cluster: s.name });
    return authenticate(req);
  };
}

async function until<T>(what: string, ms: number, f: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await sleep(20);
  }
}

test('two control-plane replicas: one writes; the other takes over from a SIGSTOPped leader, which writes nothing when resumed', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshfed-ha-'));
  const [a, b] = await Promise.all([
    startTopologyCluster({ name: 'a', region: 'r1', zones: ['r1a'], network: 'n1', podCIDR: '127.81.0.0/16', serviceCIDR: '10.81.0.0/16' }),
    startTopologyCluster({ name: 'b', region: 'r2', zones: ['r2a'], network: 'n2', podCIDR: '127.82.0.0/16', serviceCIDR: '10.82.0.0/16' }),
  ]);
  const aFile = join(dir, 'a.kubeconfig');
  writeFileSync(aFile, kubeconfigFor([a!]));
  writeFileSync(join(dir, 'b.kubeconfig'), kubeconfigFor([b!]));
  assert.equal((await meshfed(['cluster', 'add', '--kubeconfig', join(dir, 'b.kubeconfig'), '--config-kubeconfig', aFile])).code, 0);
  const writes: Write[] = [];
  recordWrites(a!, writes);
  recordWrites(b!, writes);
  const leaseInfo = a!.store.info('coordination.k8s.io', 'leases');
  const holder = (): string => { try { return String((a!.store.get(leaseInfo, 'meshfed-system', 'meshfed-control-plane').spec as { holderIdentity?: string }).holderIdentity ?? ''); } catch { return ''; } };

  const replicas: Replica[] = [];
  const start = async (id: string): Promise<Replica> => {
    const child = spawn(process.execPath, [MESHFED_BIN, 'control-plane', '--kubeconfig', aFile, '--cluster-name', 'a', '--network', 'n1', '--region', 'r1',
      '--host', '127.0.0.1', '--xds-port', '0', '--secure-port', '0', '--admin-port', '0', '--leader-elect-identity', id, ...TIMING], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const r: Replica = { id, child, admin: 0, err: () => err.slice(-3000) };
    replicas.push(r);
    const line = await until(`replica ${id} to start`, 90_000, () => { assert.equal(child.exitCode, null, `${id} exited: ${err.slice(-3000)}`); return out.includes('"admin"') ? out.trim().split('\n')[0] : undefined; });
    const started = JSON.parse(line) as { admin: number; replica: string };
    assert.equal(started.replica, id);
    r.admin = started.admin;
    return r;
  };
  const adminJson = async <T>(r: Replica, path: string): Promise<T> => (await (await fetch(`http://127.0.0.1:${r.admin}${path}`)).json()) as T;
  const metricsOf = async (r: Replica): Promise<string> => (await fetch(`http://127.0.0.1:${r.admin}/metrics`)).text();

  try {
    const both = await Promise.all([start('cp-1'), start('cp-2')]);
    const leaderId = await until('a leader', 30_000, () => holder() || undefined);
    const first = both.find((r) => r.id === leaderId)!;
    const second = both.find((r) => r.id !== leaderId)!;
    // every replica serves (ready), only one leads; both say so on their admin servers and metrics
    for (const r of [first, second]) await until(`${r.id} ready`, 60_000, async () => (await fetch(`http://127.0.0.1:${r.admin}/readyz`)).status === 200);
    const l2 = await until('the follower to see the leader', 10_000, async () => { const l = await adminJson<{ leading: boolean; leader: string }>(second, '/debug/leader'); return l.leader === first.id ? l : undefined; });
    assert.equal(l2.leading, false);
    assert.equal((await adminJson<{ leading: boolean }>(first, '/debug/leader')).leading, true);
    assert.match(await metricsOf(first), new RegExp(`meshfed_leader\\{replica="${first.id}",lease="Lease meshfed-system/meshfed-control-plane"\\} 1`));
    assert.match(await metricsOf(second), new RegExp(`meshfed_leader\\{replica="${second.id}",lease="Lease meshfed-system/meshfed-control-plane"\\} 0`));
    const st = await meshfed(['status', '--admin', `127.0.0.1:${second.admin}`]);
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stdout, new RegExp(`CONTROL PLANE\\n.*\\n${second.id}\\s+FOLLOWER\\s+${first.id}\\s`));

    // 400 federated Services in b: the leader replicates them into a
    const nsInfo = b!.store.info('', 'namespaces');
    const svcInfo = b!.store.info('', 'services');
    b!.store.create(nsInfo, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bulk', labels: { 'meshfed.io/federation': 'enabled' } } });
    for (let i = 0; i < SERVICES; i++) {
      b!.store.create(svcInfo, 'bulk', { apiVersion: 'v1', kind: 'Service', metadata: { name: `s${i}` }, spec: { selector: { app: `s${i}` }, ports: [{ name: 'http', port: 80 }] } });
    }
    const inA = (): number => { try { return a!.store.list(svcInfo, 'bulk').items.length; } catch { return 0; } };
    await until('the leader to be replicating', 60_000, () => inA() >= 40);
    // pause the leader in the middle of its replication pass
    first.child.kill('SIGSTOP');
    const stoppedAt = performance.now();
    const replicatedAtStop = inA();
    assert.ok(replicatedAtStop < SERVICES, `replication finished before the leader was paused (${replicatedAtStop})`);

    await until('the follower to take over', 30_000, () => holder() === second.id);
    const takeoverMs = performance.now() - stoppedAt;
    await until('the new leader to finish replicating', 60_000, () => inA() === SERVICES);
    process.stderr.write(`# takeover ${Math.round(takeoverMs)} ms after SIGSTOP (lease ${LEASE_S}s, retry 0.5s); ${replicatedAtStop} of ${SERVICES} replicated at the pause\n`);
    assert.ok(takeoverMs <= (LEASE_S + 2) * 1000, `takeover took ${Math.round(takeoverMs)} ms, more than the lease duration + 2 s`);

    // the old leader resumes long after its lease ran out: it must not write (its pass was cut short)
    const resumedAt = performance.now();
    first.child.kill('SIGCONT');
    await until('the old leader to see the new one', 20_000, async () => (await adminJson<{ leader: string }>(first, '/debug/leader')).leader === second.id);
    const fenced = Number(/meshfed_leader_fenced_writes_total (\d+)/.exec(await metricsOf(first))?.[1] ?? 0);
    // let anything the old leader still had queued run (its retry period is 500 ms)
    await sleep(3000);
    const late = writes.filter((w) => w.replica === first.id && w.at >= resumedAt);
    assert.deepEqual(late, [], 'the resumed old leader wrote');
    assert.ok(fenced > 0, 'the resumed leader had no pending write for the fence to stop: the test did not exercise fencing');
    assert.match(await metricsOf(first), new RegExp(`meshfed_leader\\{replica="${first.id}",lease="[^"]+"\\} 0`));
    assert.equal(holder(), second.id);

    // only the leader of the moment wrote: cp-2 nothing before the takeover, cp-1 nothing after the pause
    const summary = JSON.stringify(Object.entries(writes.reduce<Record<string, number>>((m, w) => { const k = `${w.replica} ${w.cluster} ${w.method} ${w.path.split('?')[0]!.replace(/\/s\d+$/, '/*')}`; m[k] = (m[k] ?? 0) + 1; return m; }, {})));
    assert.ok(writes.some((w) => w.replica === first.id && w.path.includes('/services/')), summary);
    assert.deepEqual(writes.filter((w) => w.replica === second.id && w.at < stoppedAt && !w.path.includes('/leases')), []);
    // no duplicate work: Service writes into a at most 1.05 × the Services
    const serviceWrites = writes.filter((w) => w.cluster === 'a' && w.method === 'PATCH' && w.path.includes('/namespaces/bulk/services/')).length;
    assert.ok(serviceWrites <= SERVICES * 1.05, `${serviceWrites} Service writes for ${SERVICES} Services`);
    process.stderr.write(`# ${serviceWrites} Service writes for ${SERVICES} Services; the resumed leader refused ${fenced} writes\n`);
  } finally {
    for (const r of replicas) { r.child.kill('SIGCONT'); r.child.kill('SIGTERM'); }
    const codes = await Promise.all(replicas.map((r) => (r.child.exitCode !== null ? r.child.exitCode : new Promise((res) => r.child.once('exit', res)))));
    await Promise.all([a!.close(), b!.close()]);
    codes.forEach((c, i) => assert.equal(c, 0, replicas[i]!.err()));
  }
});
