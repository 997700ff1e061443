// Three `meshfed control-plane` processes against API stand-ins: one leader writes; another takes over when the
// leader is paused (SIGSTOP) in the middle of replicating 400 Services, and the paused one, resumed after its lease
// ran out, sends no write at all (fencing); then the new leader is killed (kill -9) in the middle of replicating
// 500 more, and a third takes over and finishes, with no Service written twice and no foreign object touched.
// Every write request is seen at the stand-ins with the replica's User-Agent, so "who wrote" is read from the API
// servers, not from the control planes' own accounts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecureServer } from '../../src/devcluster/secure.ts';
import { meshfed } from '../helpers/meshfed.ts';
import { adminJson, leaseFlags, leaseHolder, startReplica, stopReplicas, until, whenReady, type Replica } from '../helpers/controlPlaneReplica.ts';
import { startRegisteredClusters } from '../helpers/registeredClusters.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SERVICES = 400;
const SERVICES2 = 500;
// short, but with room for a loaded machine (a leader whose renewals stall for the renew deadline loses the lease)
const LEASE_S = 6;
const TIMING = leaseFlags(LEASE_S, 4, 500);

interface Write { at: number; replica: string; method: string; path: string; cluster: string }

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

test('three control-plane replicas: one writes; takeover from a SIGSTOPped leader (which writes nothing when resumed) and from a killed one', { timeout: 420_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshfed-ha-'));
  const { a, b, aFile } = await startRegisteredClusters(dir, 81);
  const writes: Write[] = [];
  recordWrites(a!, writes);
  recordWrites(b!, writes);
  const holder = (): string => leaseHolder(a!);

  const replicas: Replica[] = [];
  const start = async (id: string): Promise<Replica> => {
    const r = await startReplica({ kubeconfig: aFile, cluster: { name: 'a', network: 'n1', region: 'r1' }, id, args: TIMING });
    replicas.push(r);
    return r;
  };
  const metricsOf = async (r: Replica): Promise<string> => (await fetch(`http://127.0.0.1:${r.admin}/metrics`)).text();

  try {
    const all = await Promise.all([start('cp-1'), start('cp-2'), start('cp-3')]);
    // every replica serves (ready), only one leads; they say so on their admin servers and metrics
    for (const r of all) await whenReady(r);
    const leaderId = await until('the replicas to agree on one leader', 60_000, async () => {
      const h = holder();
      const ls = await Promise.all(all.map((r) => adminJson<{ identity: string; leading: boolean; leader: string }>(r, '/debug/leader')));
      return h && ls.every((l) => l.leader === h && l.leading === (l.identity === h)) ? h : undefined;
    });
    const first = all.find((r) => r.id === leaderId)!;
    const [second] = all.filter((r) => r.id !== leaderId) as [Replica, Replica];
    for (const r of all.filter((x) => x !== first)) {
      assert.match(await metricsOf(r), new RegExp(`meshfed_leader\\{replica="${r.id}",lease="Lease meshfed-system/meshfed-control-plane"\\} 0`));
    }
    assert.equal((await adminJson<{ leading: boolean }>(first, '/debug/leader')).leading, true);
    assert.match(await metricsOf(first), new RegExp(`meshfed_leader\\{replica="${first.id}",lease="Lease meshfed-system/meshfed-control-plane"\\} 1`));
    const st = await meshfed(['status', '--admin', `127.0.0.1:${second.admin}`]);
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stdout, new RegExp(`CONTROL PLANE\\n.*\\n${second.id}\\s+FOLLOWER\\s+${first.id}\\s`));

    const nsInfo = b!.store.info('', 'namespaces');
    const svcInfo = b!.store.info('', 'services');
    const inA = (ns: string): number => { try { return a!.store.list(svcInfo, ns).items.length; } catch { return 0; } };
    // the stand-ins run in this process: create in slices so that they keep answering (the leader's renewals too)
    const addServices = async (ns: string, n: number): Promise<void> => {
      b!.store.create(nsInfo, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'meshfed.io/federation': 'enabled' } } });
      for (let i = 0; i < n; i++) {
        b!.store.create(svcInfo, ns, { apiVersion: 'v1', kind: 'Service', metadata: { name: `s${i}` }, spec: { selector: { app: `s${i}` }, ports: [{ name: 'http', port: 80 }] } });
        if (i % 20 === 19) await sleep(1);
      }
    };
    const leaderNow = (): Replica => all.find((r) => r.id === holder())!;
    /**
     * Adds `n` federated Services of `ns` to b and sends the leader `signal` in the middle of replicating them into a;
     * another replica must take over within the lease duration + 2 s and finish. Says who stopped, when, and who took over.
     */
    const interruptLeader = async (signal: 'SIGSTOP' | 'SIGKILL', ns: string, n: number) => {
      const done = signal === 'SIGSTOP' ? 'paused' : 'killed';
      void addServices(ns, n);
      await until(`the leader to be replicating ${ns}`, 60_000, () => inA(ns) >= 40);
      // (under load a leader may have lost its lease already: stop the one that holds it now)
      const stopped = leaderNow();
      stopped.child.kill(signal);
      const at = performance.now();
      const replicatedThen = inA(ns);
      assert.ok(replicatedThen < n, `replication finished before the leader was ${done} (${replicatedThen})`);
      const next = await until('another replica to take over', 30_000, () => all.find((r) => r !== stopped && holder() === r.id));
      const takeoverMs = performance.now() - at;
      await until(`the new leader to finish replicating ${ns}`, 60_000, () => inA(ns) === n);
      process.stderr.write(`# ${signal}: ${next.id} took over ${Math.round(takeoverMs)} ms after the leader was ${done} (lease ${LEASE_S}s, renew deadline 4s, retry 0.5s); ${replicatedThen} of ${n} replicated then\n`);
      assert.ok(takeoverMs <= (LEASE_S + 2) * 1000, `takeover took ${Math.round(takeoverMs)} ms, more than the lease duration + 2 s`);
      return { stopped, at, next };
    };

    // 1. SIGSTOP: 400 federated Services in b; the leader is paused in the middle of replicating them into a
    const { stopped: paused, at: stoppedAt, next } = await interruptLeader('SIGSTOP', 'bulk', SERVICES);

    // the old leader resumes long after its lease ran out: it must not write (its pass was cut short)
    const resumedAt = performance.now();
    paused.child.kill('SIGCONT');
    await until('the old leader to see the new one', 20_000, async () => (await adminJson<{ leader: string }>(paused, '/debug/leader')).leader === next.id);
    const fenced = Number(/meshfed_leader_fenced_writes_total (\d+)/.exec(await metricsOf(paused))?.[1] ?? 0);
    // let anything the old leader still had queued run (its retry period is 500 ms)
    await sleep(3000);
    const late = writes.filter((w) => w.replica === paused.id && w.at >= resumedAt);
    assert.deepEqual(late, [], 'the resumed old leader wrote');
    assert.ok(fenced > 0, 'the resumed leader had no pending write for the fence to stop: the test did not exercise fencing');
    assert.match(await metricsOf(paused), new RegExp(`meshfed_leader\\{replica="${paused.id}",lease="[^"]+"\\} 0`));
    assert.equal(holder(), next.id);
    // only the leader of the moment wrote: the others nothing before the takeover (but their start-up create
    // attempts on the Lease and the shared development CA), the old one nothing after the pause
    const startup = (w: Write) => w.path.includes('/namespaces/meshfed-system/leases') || w.path.startsWith('/api/v1/namespaces/meshfed-system/secrets')
      || (w.method === 'POST' && w.path.startsWith('/apis/apiextensions.k8s.io/v1/customresourcedefinitions'));
    const summary = JSON.stringify(Object.entries(writes.reduce<Record<string, number>>((m, w) => { const k = `${w.replica} ${w.cluster} ${w.method} ${w.path.split('?')[0]!.replace(/\/s\d+$/, '/*')}`; m[k] = (m[k] ?? 0) + 1; return m; }, {})));
    assert.ok(writes.some((w) => w.replica === paused.id && w.path.includes('/services/')), summary);
    if (paused === first) assert.deepEqual(writes.filter((w) => w.replica !== first.id && w.at < stoppedAt && !startup(w)), [], summary);

    // 2. kill -9: a user's own Service of the same name waits in a (never to be touched), then 500 more Services
    // in b; the leader is killed in the middle of replicating them
    a!.store.create(nsInfo, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bulk2' } });
    const native = a!.store.create(svcInfo, 'bulk2', { apiVersion: 'v1', kind: 'Service', metadata: { name: 's7', labels: { owner: 'someone-else' } }, spec: { selector: { app: 'mine' }, ports: [{ name: 'tcp', port: 9999 }] } });
    const { stopped: killed } = await interruptLeader('SIGKILL', 'bulk2', SERVICES2);
    assert.equal(a!.store.get(svcInfo, 'bulk2', 's7').metadata.resourceVersion, native.metadata.resourceVersion, 'the user\'s own Service was written');

    // every surviving replica serves the whole mesh, written once: Service writes into a at most 1.05 × the Services
    for (const r of all.filter((x) => x !== killed)) {
      await until(`${r.id} to serve every Service`, 30_000, async () => (await adminJson<Array<{ key: string }>>(r, '/debug/registry')).filter((x) => x.key.includes('bulk')).length === SERVICES + SERVICES2);
    }
    const serviceWrites = writes.filter((w) => w.cluster === 'a' && w.method === 'PATCH' && /\/namespaces\/bulk2?\/services\//.test(w.path)).length;
    assert.ok(serviceWrites <= (SERVICES + SERVICES2) * 1.05, `${serviceWrites} Service writes for ${SERVICES + SERVICES2} Services`);
    // and nothing outside what replication, the trust bundle and leader election own was written
    const foreign = writes.filter((w) => !startup(w) && !/^\/api\/v1\/namespaces\/(bulk2?(\/services\/s\d+|\/configmaps\/meshfed-root-cert)?)?(\?|$)/.test(w.path));
    assert.deepEqual(foreign, [], summary);
    process.stderr.write(`# ${serviceWrites} Service writes for ${SERVICES + SERVICES2} Services; the resumed leader refused ${fenced} writes\n`);
  } finally {
    const codes = await stopReplicas(replicas);
    await Promise.all([a!.close(), b!.close()]);
    // the killed one has no exit code; the others stop cleanly
    codes.forEach((c, i) => { if (replicas[i]!.child.signalCode !== 'SIGKILL') assert.equal(c, 0, replicas[i]!.err()); });
  }
});
