// PolicyWatcher reading VirtualServices/DestinationRules from a member cluster (an API stand-in) through the
// members the federation announces (no polling): a member without the CRDs is tolerated until they appear, an invalid update
// there gets its status in that cluster and the last good stays served, the control plane's copy wins, and a
// departed member's policy is dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { startTopologyCluster } from '../../src/devcluster/playground.ts';
import { POLICY_CRDS } from '../../src/policy/crds.ts';
import { PolicyWatcher } from '../../src/policy/watcher.ts';
import type { Rejection } from '../../src/policy/types.ts';
import type { PolicySet } from '../../src/policy/validate.ts';
import { adminKubeConfig } from '../../src/devcluster/clientConfig.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); await sleep(50)) if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
}

test('member-cluster traffic policy: read when the CRDs appear, status written there, control plane wins, dropped on leave', { timeout: 120_000 }, async () => {
  const cp = await startTopologyCluster({ name: 'cp', region: 'r1', zones: ['z1'], network: 'n1', podCIDR: '127.82.0.0/16', serviceCIDR: '10.82.0.0/16' });
  const east = await startTopologyCluster({ name: 'east', region: 'r2', zones: ['z1'], network: 'n2', podCIDR: '127.83.0.0/16', serviceCIDR: '10.83.0.0/16' });
  const kcOf = adminKubeConfig;
  const cpKc = kcOf(cp);
  const eastKc = kcOf(east);
  const members = new Map<string, k8s.KubeConfig>();
  // what the federation gives the policy watcher: the member set, and a call when it changes (no polling)
  const told = new Set<() => void>();
  const source = { memberKubeConfigs: () => members, onMembers: (cb: () => void) => { told.add(cb); return () => told.delete(cb); } };
  const announce = () => { for (const cb of told) cb(); };
  let accepted: PolicySet = { virtualServices: [], destinationRules: [] };
  let rejected: readonly (Rejection & { cluster: string })[] = [];
  const watcher = new PolicyWatcher({ kubeConfig: cpKc, members: source, onPolicy: (a, r) => { accepted = a; rejected = r; } });
  const servedVs = () => accepted.virtualServices.find((v) => v.metadata.name === 'echo');
  const vs = (weights: number[], host = 'echo') => ({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'echo', namespace: 'demo' },
    spec: { hosts: [host], http: [{ route: weights.map((w, i) => ({ destination: { host: 'echo', subset: `v${i + 1}` }, weight: w })) }] } });
  const dr = { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'echo', namespace: 'demo' },
    spec: { host: 'echo', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] } };
  const apply = (kc: k8s.KubeConfig, o: Record<string, unknown>) =>
    k8s.KubernetesObjectApi.makeApiClient(kc).patch(o as k8s.KubernetesObject, undefined, undefined, 'test', true, k8s.PatchStrategy.ServerSideApply);
  try {
    await watcher.start();
    members.set('east', eastKc);
    announce();
    await watcher.syncMembers(); // east has no CRDs yet: tolerated, retried
    const eastObjects = k8s.KubernetesObjectApi.makeApiClient(eastKc);
    for (const crd of POLICY_CRDS) await eastObjects.create(crd as unknown as k8s.KubernetesObject);
    await eastKc.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: 'demo' } } });
    await apply(eastKc, dr);
    await apply(eastKc, vs([80, 20]));
    await until('the member cluster\'s VirtualService and DestinationRule are accepted', () => servedVs() !== undefined && accepted.destinationRules.length === 1);
    assert.deepEqual(servedVs()!.spec.http?.[0]?.route.map((r) => r.weight), [80, 20]);
    assert.equal(servedVs()!.spec.hosts[0], 'echo.demo.svc.cluster.local');

    // invalid update in the member: rejected with the member named, last good served, status written in the member
    await apply(eastKc, vs([50, 40]));
    await until('the invalid member update is rejected', () => rejected.some((r) => r.cluster === 'east' && r.name === 'echo'));
    assert.match(rejected.find((r) => r.cluster === 'east')!.reasons.join(' '), /100/);
    assert.deepEqual(servedVs()!.spec.http?.[0]?.route.map((r) => r.weight), [80, 20], 'the last good version stays served');
    const custom = eastKc.makeApiClient(k8s.CustomObjectsApi);
    let status: { conditions?: { status: string; reason: string; message: string }[] } | undefined;
    for (const end = Date.now() + 10_000; status?.conditions?.[0]?.status !== 'False' && Date.now() < end; await sleep(100)) {
      status = (await custom.getNamespacedCustomObject({ group: 'networking.istio.io', version: 'v1', namespace: 'demo', plural: 'virtualservices', name: 'echo' }) as { status?: typeof status }).status;
    }
    assert.equal(status?.conditions?.[0]?.reason, 'Invalid', JSON.stringify(status));
    assert.match(status!.conditions![0]!.message, /100/);

    // the control plane's copy of demo/echo wins over the member's
    await cpKc.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: 'demo' } } });
    const plain = vs([100]); // no subset: stays valid without the member's DestinationRule
    plain.spec.http[0]!.route[0]!.destination = { host: 'echo' } as { host: string; subset: string };
    await apply(cpKc, plain);
    await until('the control plane copy is served', () => servedVs()?.spec.http?.[0]?.route.length === 1);
    assert.ok(!rejected.some((r) => r.name === 'echo'), `the shadowed invalid member copy is not judged: ${JSON.stringify(rejected)}`);

    // the member leaves: its DestinationRule is no longer served
    members.delete('east');
    announce();
    await until('the departed member\'s DestinationRule is dropped', () => accepted.destinationRules.length === 0);
    assert.ok(servedVs(), 'the control plane VirtualService stays');
  } finally {
    await watcher.stop();
    await cp.close();
    await east.close();
  }
});
