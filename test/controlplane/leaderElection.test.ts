// Leader election on a Lease in an API stand-in: one leader among candidates, release on stop, takeover, the fence
// computed from a monotonic clock (a paused leader is not the leader when it resumes), and the flags.
import { standinTls } from '../../src/playground/standinTls.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { startApiServer, kubeconfigFor, type ApiServer } from '../../src/devcluster/index.ts';
import { checkTiming, decide, LeaderElector } from '../../src/controlplane/leaderElection.ts';
import { leaderElectionFromFlags, parseDuration } from '../../src/controlplane/leaderElectionFlags.ts';
import { kubeLeaseLock, microTime, type LeaseSpec } from '../../src/kube/leaseClient.ts';
import { run } from '../helpers/kubectl.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FAST = { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 100 };

async function until(what: string, f: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!f()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function standIn(): Promise<{ server: ApiServer; kc: k8s.KubeConfig; spec: () => LeaseSpec | undefined }> {
  const server = await startApiServer({ name: 'lease-test', tls: standinTls('lease-test') });
  const kc = new k8s.KubeConfig();
  kc.loadFromString(kubeconfigFor([server]));
  server.store.create(server.store.info('', 'namespaces'), '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'meshfed-system' } });
  const info = server.store.info('coordination.k8s.io', 'leases');
  const spec = (): LeaseSpec | undefined => { try { return server.store.get(info, 'meshfed-system', 'meshfed-control-plane').spec as LeaseSpec; } catch { return undefined; } };
  return { server, kc, spec };
}

test('decide: a held, unexpired lease is left alone; an expired, released or own one is taken, counting transitions', () => {
  const wall = new Date('2026-12-02T10:00:00.123Z');
  const held: LeaseSpec = { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: '2026-12-02T09:00:00.000000Z', renewTime: '2026-12-02T09:59:59.000000Z', leaseTransitions: 3 };
  assert.deepEqual(decide(held, 1000, 15_999, 'b', 15, wall), { take: false, holder: 'a', expiresAt: 16_000 });
  const taken = decide(held, 1000, 16_000, 'b', 15, wall);
  assert.ok(taken.take);
  assert.deepEqual(taken.spec, { holderIdentity: 'b', leaseDurationSeconds: 15, acquireTime: '2026-12-02T10:00:00.123000Z', renewTime: '2026-12-02T10:00:00.123000Z', leaseTransitions: 4 });
  // released (holder ''): taken at once
  assert.equal(decide({ ...held, holderIdentity: '', leaseDurationSeconds: 1 }, 1000, 1001, 'b', 15, wall).take, true);
  // our own: renewed, same acquireTime, no transition
  const renewed = decide(held, 1000, 1001, 'a', 15, wall);
  assert.ok(renewed.take);
  assert.equal(renewed.spec.acquireTime, held.acquireTime);
  assert.equal(renewed.spec.leaseTransitions, 3);
  assert.equal(renewed.transition, false);
  assert.equal(microTime(new Date('2026-01-02T03:04:05.006Z')), '2026-01-02T03:04:05.006000Z');
});

test('timing and flags: client-go defaults, durations, and checks that name what to fix', () => {
  assert.deepEqual(leaderElectionFromFlags({}), { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, namespace: 'meshfed-system', name: 'meshfed-control-plane' });
  assert.equal(leaderElectionFromFlags({ 'leader-elect': 'false' }), false);
  assert.deepEqual(leaderElectionFromFlags({ 'leader-elect-lease-duration': '1m', 'leader-elect-renew-deadline': '40s', 'leader-elect-retry-period': '500ms', 'leader-elect-identity': 'me' }),
    { leaseDurationMs: 60_000, renewDeadlineMs: 40_000, retryPeriodMs: 500, namespace: 'meshfed-system', name: 'meshfed-control-plane', identity: 'me' });
  assert.equal(parseDuration('x', '1m30s'), 90_000);
  assert.equal(parseDuration('x', '1.5s'), 1500);
  assert.throws(() => parseDuration('leader-elect-retry-period', '2'), /--leader-elect-retry-period must be a duration like 15s/);
  assert.throws(() => leaderElectionFromFlags({ 'leader-elect-renew-deadline': '15s' }), /lease duration \(15s\) must be longer than the renew deadline \(15s\)/);
  assert.throws(() => leaderElectionFromFlags({ 'leader-elect-retry-period': '10s' }), /renew deadline \(10s\) must be longer than the retry period \(10s\)/);
  assert.throws(() => leaderElectionFromFlags({ 'leader-elect': 'yes' }), /--leader-elect must be true or false/);
  assert.match(checkTiming({ leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 100 }) ?? '', /whole number of seconds/);
});

test('candidates on one Lease: exactly one leads; a stopped leader releases and another takes over without waiting for expiry', async () => {
  const { server, kc, spec } = await standIn();
  // a long lease: a takeover before it could have expired can only come from the release
  const slow = { leaseDurationMs: 60_000, renewDeadlineMs: 1500, retryPeriodMs: 100 };
  const electors = ['a', 'b', 'c'].map((id) => new LeaderElector({ lock: kubeLeaseLock(kc, 'meshfed-system', 'meshfed-control-plane'), identity: id, ...slow }));
  try {
    electors.forEach((e) => e.start());
    await until('a leader', () => electors.some((e) => e.isLeader()));
    await sleep(500); // several retry periods: nobody else grabs it
    const leaders = electors.filter((e) => e.isLeader());
    assert.equal(leaders.length, 1);
    const first = leaders[0]!;
    assert.equal(spec()?.holderIdentity, first.identity);
    assert.equal(spec()?.leaseDurationSeconds, 60);
    assert.match(spec()?.renewTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    await until('followers to know the leader', () => electors.every((e) => e.status().leader === first.identity));
    const transitions = spec()?.leaseTransitions ?? 0;

    await first.stop();
    assert.equal(first.isLeader(), false);
    await until('another leader', () => electors.some((e) => e !== first && e.isLeader()));
    const next = electors.find((e) => e !== first && e.isLeader())!;
    assert.equal(spec()?.holderIdentity, next.identity);
    assert.equal(spec()?.leaseTransitions, transitions + 1);
    assert.equal(electors.filter((e) => e.isLeader()).length, 1);
  } finally {
    await Promise.all(electors.map((e) => e.stop()));
    await server.close();
  }
});

test('fencing: a leader whose clock jumped past the renew deadline (a pause) is not the leader, before its loop runs again', async () => {
  const { server, kc, spec } = await standIn();
  let offset = 0;
  const now = () => performance.now() + offset;
  const lost: string[] = [];
  // the loop renews every 20 s (real time): it does not run during the test
  const timing = { leaseDurationMs: 60_000, renewDeadlineMs: 30_000, retryPeriodMs: 20_000 };
  const a = new LeaderElector({ lock: kubeLeaseLock(kc, 'meshfed-system', 'meshfed-control-plane'), identity: 'a', now, ...timing, onStoppedLeading: () => lost.push('a') });
  try {
    a.start();
    await until('a to lead', () => a.isLeader());
    assert.equal(a.mayWrite(), true);
    // as after SIGSTOP/SIGCONT: the monotonic clock moved on by more than the renew deadline, the loop has not run
    offset += timing.renewDeadlineMs;
    assert.equal(a.isLeader(), false);
    assert.equal(a.mayWrite(), false);
    assert.equal(a.fencedWrites(), 1);
    assert.equal(spec()?.holderIdentity, 'a', 'the lease record still names it: the fence does not depend on reading it');
    assert.deepEqual(lost, [], 'the loop has not run yet: the fence alone said no');
  } finally {
    await a.stop();
    await server.close();
  }
});

test('takeover on expiry: a lease nobody renews (no release) is taken over after its duration as observed, not before', async () => {
  const { server, kc, spec } = await standIn();
  const lock = kubeLeaseLock(kc, 'meshfed-system', 'meshfed-control-plane');
  // a dead leader: a record nobody renews
  await lock.create({ holderIdentity: 'dead', leaseDurationSeconds: 2, acquireTime: microTime(new Date()), renewTime: microTime(new Date()), leaseTransitions: 0 }, 5000);
  const b = new LeaderElector({ lock, identity: 'b', ...FAST });
  try {
    const t0 = performance.now();
    b.start();
    await until('b to lead', () => b.isLeader());
    // never before the lease (2 s) could have expired as b observed it
    assert.ok(performance.now() - t0 >= 2000, `took over after ${Math.round(performance.now() - t0)} ms`);
    assert.equal(spec()?.holderIdentity, 'b');
    assert.equal(spec()?.leaseTransitions, 1);
  } finally {
    await b.stop();
    await server.close();
  }
});

test('stand-in Lease concurrency as kube-apiserver: stale resourceVersion → 409 Conflict, none → 422, two creates → 409 AlreadyExists', async () => {
  const { server, kc } = await standIn();
  try {
    const lock = kubeLeaseLock(kc, 'meshfed-system', 'meshfed-control-plane');
    const created = await lock.create({ holderIdentity: 'a', leaseDurationSeconds: 15 }, 5000);
    await assert.rejects(lock.create({ holderIdentity: 'b', leaseDurationSeconds: 15 }, 5000), (e: { code?: number; message: string }) => e.code === 409 && /already exists/.test(e.message));
    const renewed = await lock.update({ ...created, spec: { ...created.spec, holderIdentity: 'a', renewTime: microTime(new Date()) } }, 5000);
    assert.notEqual(renewed.metadata.resourceVersion, created.metadata.resourceVersion);
    // b read the lease before a's renewal: its takeover loses
    await assert.rejects(lock.update({ ...created, spec: { ...created.spec, holderIdentity: 'b' } }, 5000),
      (e: { code?: number; message: string }) => e.code === 409 && /the object has been modified; please apply your changes to the latest version/.test(e.message));
    const { resourceVersion: _drop, ...noRv } = renewed.metadata;
    await assert.rejects(lock.update({ ...renewed, metadata: { ...noRv }, spec: { holderIdentity: 'b' } }, 5000),
      (e: { code?: number; message: string }) => e.code === 422 && /metadata.resourceVersion: Invalid value: 0x0: must be specified for an update/.test(e.message));
    // kubectl 1.32 and 1.20 (clients we did not write) get the same answers
    const file = join(mkdtempSync(join(tmpdir(), 'meshfed-lease-')), 'kubeconfig');
    writeFileSync(file, kubeconfigFor([server]));
    const stale = JSON.stringify({ ...created, apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', spec: { holderIdentity: 'c' } });
    for (const bin of ['/usr/bin/kubectl', new URL('../../.tools/bin/kubectl', import.meta.url).pathname]) {
      const r = await run(bin, ['--kubeconfig', file, 'replace', '--validate=false', '-f', '-'], stale);
      assert.notEqual(r.code, 0, `${bin}: ${r.stdout}`);
      assert.match(r.stderr, /Operation cannot be fulfilled on leases.coordination.k8s.io "meshfed-control-plane": the object has been modified/, bin);
    }
    // other kinds still accept an unconditional replace, as kube-apiserver does
    const cm = server.store.info('', 'configmaps');
    server.store.create(cm, 'meshfed-system', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: '1' } });
    server.store.update(cm, 'meshfed-system', 'x', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: '2' } });
  } finally {
    await server.close();
  }
});
