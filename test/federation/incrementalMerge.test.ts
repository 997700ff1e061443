// Safety net of the dirty-key merge: over random change sequences (slices, pods, services, nodes, namespaces,
// cluster state), merging only the keys DirtyKeys reports on top of the previous snapshot gives exactly the
// snapshot a full merge from scratch gives.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { DirtyKeys } from '../../src/federation/dirtyKeys.ts';
import { MergeCache, mergeClusters, type ClusterView } from '../../src/federation/merge.ts';
import { snapshotEvents } from '../../src/federation/snapshotEvents.ts';
import type { MeshSnapshot } from '../../src/mesh/types.ts';
import { node, ns, pod, svc, view } from './fixtures.ts';

const now = new Date('2026-02-02T00:00:00Z');
const FED = { 'meshfed.io/federation': 'enabled' };

/** mulberry32: a small seeded PRNG, so a failure can be replayed */
function rng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

const NAMESPACES = ['a', 'b', 'c'];
const SERVICES = ['s0', 's1', 's2', 's3'];

function mkSlice(namespace: string, service: string, n: number, eps: Array<{ ip: string; pod: string; node: string; ready: boolean }>): k8s.V1EndpointSlice {
  return {
    metadata: { namespace, name: `${service}-${n}`, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 9000 + n, protocol: 'TCP' }],
    endpoints: eps.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready }, nodeName: e.node, targetRef: { kind: 'Pod', name: e.pod, namespace } })),
  };
}

interface Model { view: ClusterView; dirty: DirtyKeys }

function replace<T extends k8s.KubernetesObject>(list: readonly T[], o: T): T[] {
  const i = list.findIndex((x) => x.metadata?.namespace === o.metadata?.namespace && x.metadata?.name === o.metadata?.name);
  return i < 0 ? [...list, o] : list.map((x, j) => (j === i ? o : x));
}
function remove<T extends k8s.KubernetesObject>(list: readonly T[], o: T): T[] {
  return list.filter((x) => !(x.metadata?.namespace === o.metadata?.namespace && x.metadata?.name === o.metadata?.name));
}

/** One random change to one cluster, reported to its DirtyKeys the way ClusterWatcher reports informer events. */
function change(m: Model, r: (n: number) => number, ci: number, step: number): void {
  const v = m.view;
  const namespace = NAMESPACES[r(NAMESPACES.length)]!;
  const service = SERVICES[r(SERVICES.length)]!;
  switch (r(9)) {
    case 0: case 1: case 2: { // write or delete an EndpointSlice
      const n = r(2);
      const existing = v.endpointSlices.find((s) => s.metadata?.namespace === namespace && s.metadata?.name === `${service}-${n}`);
      if (existing && r(4) === 0) {
        m.view = { ...v, endpointSlices: remove(v.endpointSlices, existing) };
        m.dirty.slice(existing, true);
        return;
      }
      const eps = Array.from({ length: r(4) }, (_, e) => ({ ip: `10.${ci}.${step % 250}.${e + 1}`, pod: `p${r(5)}`, node: `n${r(3)}`, ready: r(3) > 0 }));
      const s = mkSlice(namespace, service, n, eps);
      m.view = { ...v, endpointSlices: replace(v.endpointSlices, s) };
      m.dirty.slice(s, false);
      return;
    }
    case 3: case 4: { // a Pod's sidecar label, service account or inbound port changes, or it goes away
      const p = pod(namespace, `p${r(5)}`, { labels: r(2) ? { 'security.istio.io/tlsMode': 'istio' } : {}, annotations: r(2) ? { 'meshfed.io/inbound-port': String(15000 + r(10)) } : {}, sa: `sa${r(2)}`, node: `n${r(3)}` });
      if (r(5) === 0) { m.view = { ...v, pods: remove(v.pods, p) }; m.dirty.pod(p); return; }
      m.view = { ...v, pods: replace(v.pods, p) };
      m.dirty.pod(p);
      return;
    }
    case 5: { // a Service appears, changes ports, becomes a replica, or goes away
      const s = svc(namespace, service, [['http', 8080 + r(3)]], { created: `2026-01-0${1 + r(5)}T00:00:00Z`, labels: r(6) === 0 ? { 'app.kubernetes.io/managed-by': 'meshfed' } : {} });
      if (r(3) === 0) { m.view = { ...v, services: remove(v.services, s) }; m.dirty.service(s); return; }
      m.view = { ...v, services: replace(v.services, s) };
      m.dirty.service(s);
      return;
    }
    case 6: { // a Node is relabelled (or only touched)
      const n = node(`n${r(3)}`, r(3) === 0 ? {} : { 'topology.kubernetes.io/region': `r${r(2)}`, 'topology.kubernetes.io/zone': `z${r(2)}` });
      m.view = { ...v, nodes: replace(v.nodes, n) };
      m.dirty.labelled('node', n, false);
      return;
    }
    case 7: { // a Namespace opts in or out
      const n = ns(namespace, r(3) === 0 ? {} : FED);
      m.view = { ...v, namespaces: replace(v.namespaces, n) };
      m.dirty.labelled('namespace', n, false);
      return;
    }
    default: { // the cluster goes away or comes back (the watcher marks everything on a state change)
      const down = r(2) === 0;
      m.view = { ...v, status: { ...v.status, state: down ? 'unreachable' : 'connected', since: `2026-02-01T00:00:${String(step % 60).padStart(2, '0')}.000Z` } };
      m.dirty.all();
    }
  }
}

/** The snapshot's content, without what differs by construction (version, build time). */
function content(s: MeshSnapshot): unknown {
  return { clusters: s.clusters, services: [...s.services], gateways: s.gateways };
}

for (const seed of [1, 2, 3, 4]) {
  test(`dirty-key merge equals a full merge over 300 random changes (seed ${seed})`, () => {
    const r = rng(seed);
    const models: Model[] = ['x', 'y', 'z'].map((name, ci) => {
      const m: Model = { view: view(name, { namespaces: NAMESPACES.map((n) => ns(n, FED)), nodes: [node('n0', { 'topology.kubernetes.io/zone': `z${ci}` })] }), dirty: new DirtyKeys() };
      return m;
    });
    const cache = new MergeCache();
    let prev = mergeClusters(models.map((m) => m.view), { version: 0, now, cache });
    for (const m of models) m.dirty.take();
    let incremental = 0;
    for (let step = 1; step <= 300; step++) {
      // one to three changes in one or more clusters between merges (a coalesced burst)
      for (let k = 1 + r(3); k > 0; k--) {
        const ci = r(models.length);
        change(models[ci]!, r, ci, step);
      }
      let dirty: Set<string> | undefined = new Set();
      for (const m of models) {
        const d = m.dirty.take();
        if (!d) dirty = undefined; else if (dirty) for (const key of d) dirty.add(key);
      }
      if (dirty) incremental++;
      const views = models.map((m) => m.view);
      const next = mergeClusters(views, { version: step, now, previous: prev, ...(dirty ? { dirty } : {}), cache });
      const full = mergeClusters(views, { version: step, now });
      assert.deepEqual(content(next), content(full), `seed ${seed}, step ${step}: dirty ${dirty ? [...dirty].join(' ') : 'all'}`);
      // the keys it reports as changed are exactly those that differ, and the events computed from them are the same
      const changed = cache.changedServices(prev, next);
      const differ = new Set([...next.services.keys(), ...prev.services.keys()].filter((k) => next.services.get(k) !== prev.services.get(k)));
      if (changed) assert.deepEqual([...changed].sort(), [...differ].sort(), `seed ${seed}, step ${step}: changed keys`);
      else assert.equal(dirty, undefined, 'a dirty-key merge always knows what it changed');
      const byMessage = (l: ReturnType<typeof snapshotEvents>) => l.map((e) => e.message).sort();
      assert.deepEqual(byMessage(snapshotEvents(prev, next, changed)), byMessage(snapshotEvents(prev, next)));
      // services that did not change are the previous snapshot's very objects (pilot compares by identity)
      for (const [key, s] of next.services) {
        const before = prev.services.get(key);
        if (before && dirty && !dirty.has(key)) assert.equal(s, before, `seed ${seed}, step ${step}: ${key} reused`);
      }
      prev = next;
    }
    assert.ok(incremental > 100, `most merges took the dirty-key path (${incremental}/300)`);
  });
}

test('DirtyKeys: a slice change marks its service, a pod change the services whose slices point at it', () => {
  const d = new DirtyKeys();
  assert.equal(d.take(), undefined, 'the first merge is a full one');
  const s = mkSlice('a', 's0', 0, [{ ip: '10.0.0.1', pod: 'p1', node: 'n0', ready: true }]);
  d.slice(s, false);
  assert.deepEqual([...d.take()!], ['a/s0']);
  d.pod(pod('a', 'p1'));
  d.pod(pod('a', 'p2'));
  assert.deepEqual([...d.take()!], ['a/s0'], 'p2 is in no slice');
  // the slice moves to another service (label change): both keys
  d.slice({ ...s, metadata: { ...s.metadata, labels: { 'kubernetes.io/service-name': 's1' } } }, false);
  assert.deepEqual([...d.take()!].sort(), ['a/s0', 'a/s1']);
  d.slice(s, true);
  assert.deepEqual([...d.take()!], ['a/s1']);
  d.pod(pod('a', 'p1'));
  assert.deepEqual([...d.take()!], [], 'a deleted slice no longer ties the pod to a service');
  d.labelled('node', node('n0', { zone: 'z' }), false);
  assert.equal(d.take(), undefined, 'a new node label: everything');
  d.labelled('node', node('n0', { zone: 'z' }), false);
  assert.deepEqual([...d.take()!], [], 'same labels: nothing');
});

test('a series of dirty-key merges does not keep old snapshots alive (each would hold a copy of the services map)', async () => {
  const { setFlagsFromString } = await import('node:v8');
  const { runInNewContext } = await import('node:vm');
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const services = Array.from({ length: 50 }, (_, i) => svc('a', `s${i}`, [['http', 80]]));
  let v = view('x', { namespaces: [ns('a', FED)], services });
  const cache = new MergeCache();
  let prev = mergeClusters([v], { version: 0, now, cache });
  let first: WeakRef<object> | undefined;
  for (let i = 1; i <= 20; i++) {
    v = { ...v, endpointSlices: [mkSlice('a', `s${i}`, 0, [{ ip: `10.0.0.${i}`, pod: 'p', node: 'n', ready: true }])] };
    prev = mergeClusters([v], { version: i, now, previous: prev, dirty: new Set([`a/s${i - 1}`, `a/s${i}`]), cache });
    if (i === 1) first = new WeakRef(prev);
    await new Promise((r) => setImmediate(r)); // a rebuild per timer tick, as in Federation
  }
  gc();
  await new Promise((r) => setImmediate(r));
  gc();
  assert.equal(first!.deref(), undefined, 'the first dirty-key snapshot was collected');
  assert.equal(prev.services.get('a/s20')!.endpoints.length, 1);
});
