// Quiet and truthful during an outage (issue 18): on a healthy, idle member the sync age (meshfed cluster list's
// LAST SYNC, meshfed_federation_last_sync_age_seconds) stays below 5 s; when the clusters stop answering it grows,
// and 60 s of outage produce at most 5 log lines from each watcher (federation's member watch, the registration
// Secrets, traffic policy), with a plain summary when they are back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { harness, waitFor } from '../devcluster/harness.ts';
import { kubeconfigFor } from '../../src/devcluster/index.ts';
import { Federation } from '../../src/federation/federation.ts';
import { clusterRows } from '../../src/federation/clusterList.ts';
import { PolicyWatcher } from '../../src/policy/watcher.ts';
import { EventBus } from '../../src/observe/events.ts';
import { newRegistry } from '../../src/observe/metrics.ts';
import { createLogger } from '../../src/log.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function capture() {
  const lines: Array<{ level: number; msg: string; component: string }> = [];
  const dest = new Writable({ write(chunk, _enc, cb) { for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l)); cb(); } });
  return { lines, logger: (component: string) => createLogger(component, { level: 'info', destination: dest }) };
}

test('sync age stays below 5 s on an idle healthy cluster and grows when it stops answering; 60 s of outage log at most 5 lines per watcher', { timeout: 240_000 }, async (t) => {
  const cp = await harness({ name: 'cp' });
  const member = await harness({ name: 'm1' });
  const coreCp = cp.core;
  await coreCp.createNamespace({ body: { metadata: { name: 'meshfed-system' } } });
  // a registration Secret as `meshfed cluster add` writes it (docs/CONTRACTS.md)
  await coreCp.createNamespacedSecret({ namespace: 'meshfed-system', body: {
    metadata: { name: 'meshfed-remote-m1', labels: { 'meshfed.io/multicluster': 'true' }, annotations: { 'meshfed.io/cluster-name': 'm1', 'meshfed.io/network': 'n2', 'meshfed.io/region': 'r2' } },
    stringData: { kubeconfig: kubeconfigFor([member.server]) },
  } });
  const log = capture();
  const registry = newRegistry();
  const fed = new Federation({ kubeConfig: cp.kc, local: { name: 'cp', network: 'n1', region: 'r1' }, registry, events: new EventBus(), log: log.logger('federation'), resyncMs: 3_600_000 });
  const policy = new PolicyWatcher({ kubeConfig: cp.kc, members: fed, onPolicy: () => {}, log: log.logger('policy') });
  const announced: string[] = [];
  fed.onMembers((c) => announced.push('added' in c ? `added ${c.added}` : `removed ${c.removed}`));
  const age = async (cluster: string): Promise<number> => {
    const text = await registry.metrics();
    const m = new RegExp(`^meshfed_federation_last_sync_age_seconds\\{cluster="${cluster}"\\} (\\S+)$`, 'm').exec(text);
    assert.ok(m, `no sync age for ${cluster} in:\n${text}`);
    return Number(m[1]);
  };
  try {
    await policy.start();
    await fed.start();
    await fed.whenSynced(30_000);
    await waitFor(() => fed.clusters().length === 2, 'both clusters in the snapshot');

    // 30 s idle and healthy: nothing changes, so nothing is merged; the age still stays small
    let worst = 0;
    for (const end = Date.now() + 30_000; Date.now() < end; await sleep(1000)) {
      for (const c of ['cp', 'm1']) worst = Math.max(worst, await age(c));
      const rows = clusterRows([], fed.clusters(), '');
      for (const r of rows) assert.match(r.lastSync, /^[0-4]s ago$/, `LAST SYNC of ${r.name}: ${r.lastSync}`);
    }
    t.diagnostic(`idle, healthy: worst sync age over 30 s = ${worst.toFixed(2)} s`);
    assert.ok(worst < 5, `sync age reached ${worst} s on an idle healthy cluster`);

    // both clusters stop answering (connection refused) for 60 s: every watcher fails and retries all along
    const before = log.lines.length;
    await member.server.setReachable(false);
    await cp.server.setReachable(false);
    const downAt = Date.now();
    await waitFor(() => fed.clusters().find((c) => c.name === 'm1')?.state === 'unreachable', 'm1 unreachable', 30_000);
    const early = await age('m1');
    await sleep(Math.max(0, downAt + 60_000 - Date.now()));
    const late = await age('m1');
    t.diagnostic(`sync age of m1 after ${Math.round((Date.now() - downAt) / 1000)} s down: ${late.toFixed(1)} s`);
    assert.ok(late > early && late >= 55, `the sync age grows while the cluster does not answer (${early} → ${late})`);
    assert.match(clusterRows([], fed.clusters(), '').find((r) => r.name === 'm1')!.lastSync, /^(5\d|6\d)s ago|1m ago$/);
    const during = log.lines.slice(before);
    const byWatcher = new Map<string, string[]>();
    for (const l of during) {
      const who = /^(cluster \S+|traffic policy in (?:cluster \S+|the control-plane cluster)|registration Secrets)/.exec(l.msg)?.[1] ?? `other: ${l.msg}`;
      byWatcher.set(who, [...(byWatcher.get(who) ?? []), l.msg]);
    }
    t.diagnostic(`log lines in 60 s of outage: ${during.length}\n${during.map((l) => `  ${l.msg}`).join('\n')}`);
    assert.deepEqual([...byWatcher.keys()].sort(), ['cluster cp', 'cluster m1', 'registration Secrets', 'traffic policy in cluster cp', 'traffic policy in cluster m1', 'traffic policy in the control-plane cluster'],
      'every watcher said it is down, and nothing else was logged');
    for (const [who, lines] of byWatcher) assert.ok(lines.length <= 5, `${who}: ${lines.length} lines\n${lines.join('\n')}`);

    // back: one line each with a summary of the outage, then quiet
    const mark = log.lines.length;
    await cp.server.setReachable(true);
    await member.server.setReachable(true);
    await waitFor(() => fed.clusters().every((c) => c.state === 'connected'), 'both connected again', 30_000);
    await waitFor(() => log.lines.slice(mark).filter((l) => / is back after /.test(l.msg)).length >= 6, 'a line from each watcher saying it is back', 30_000);
    const back = log.lines.slice(mark).filter((l) => / is back after /.test(l.msg));
    for (const l of back) assert.match(l.msg, /is back after 1 min \d+ s unreachable \(\d+ failed attempts; last: .+\)$/);
    const attempts = back.map((l) => Number(/\((\d+) failed attempts/.exec(l.msg)![1]));
    assert.ok(attempts.every((n) => n > 5), `the retries went on quietly (${attempts.join(', ')} attempts)`);
    assert.ok(await age('m1') < 5, 'the sync age is small again');

    // federation announces members joining and leaving; policy follows (it polls nothing)
    assert.deepEqual(announced, ['added cp', 'added m1']);
    await coreCp.deleteNamespacedSecret({ name: 'meshfed-remote-m1', namespace: 'meshfed-system' });
    await waitFor(() => announced.includes('removed m1'), 'm1 announced removed', 30_000);
    await waitFor(() => log.lines.some((l) => l.msg === 'stopped reading traffic policy from member cluster' && (l as { cluster?: string }).cluster === 'm1'), 'policy stops reading m1', 30_000);
  } finally {
    await policy.stop();
    await fed.stop();
    await cp.server.close();
    await member.server.close();
  }
});
