// Federation bench (pure path only: no API servers, no informers): 5 clusters × 1,000 services × 3 endpoints.
// Measures the full merge into a MeshSnapshot, the replication plan, one-change → new snapshot latency
// (re-merge reusing unchanged services from the previous snapshot), and peak RSS. Baseline in the same run: a structured clone of all the input objects
// (the cost of merely touching every object once).
import type * as k8s from '@kubernetes/client-node';
import { MergeCache, mergeClusters, type ClusterView } from '../src/federation/merge.ts';
import { planReplication } from '../src/federation/replicationPlan.ts';

const CLUSTERS = 5;
const SERVICES = 1000;
const EPS = 3;
const CHANGES = 200;

let peakRss = 0;
const sampleRss = () => { peakRss = Math.max(peakRss, process.memoryUsage().rss); };
const timer = setInterval(sampleRss, 20);

function build(ci: number): ClusterView {
  const name = `c${ci}`;
  const namespaces: k8s.V1Namespace[] = [];
  const services: k8s.V1Service[] = [];
  const endpointSlices: k8s.V1EndpointSlice[] = [];
  const pods: k8s.V1Pod[] = [];
  const nodes: k8s.V1Node[] = [0, 1, 2].map((z) => ({ metadata: { name: `n${z}`, labels: { 'topology.kubernetes.io/region': `r${ci}`, 'topology.kubernetes.io/zone': `r${ci}-${z}` } } }));
  for (let n = 0; n < 10; n++) namespaces.push({ metadata: { name: `ns${n}`, labels: { 'meshfed.io/federation': 'enabled' } } });
  for (let s = 0; s < SERVICES; s++) {
    const namespace = `ns${s % 10}`;
    const svc = `svc-${ci}-${s}`;
    services.push({ metadata: { namespace, name: svc, creationTimestamp: new Date(1_700_000_000_000 + s) }, spec: { ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] } });
    const endpoints: k8s.V1Endpoint[] = [];
    for (let e = 0; e < EPS; e++) {
      const podName = `${svc}-${e}`;
      pods.push({ metadata: { namespace, name: podName, labels: { app: svc, 'security.istio.io/tlsMode': 'istio' } }, spec: { containers: [], serviceAccountName: 'sa', nodeName: `n${e}` } });
      endpoints.push({ addresses: [`10.${ci}.${Math.floor((s * EPS + e) / 250)}.${(s * EPS + e) % 250}`], conditions: { ready: true }, nodeName: `n${e}`, targetRef: { kind: 'Pod', name: podName, namespace } });
    }
    endpointSlices.push({ metadata: { namespace, name: `${svc}-x`, labels: { 'kubernetes.io/service-name': svc } }, addressType: 'IPv4', ports: [{ name: 'http', port: 9090 }], endpoints });
  }
  return {
    status: { name, server: `https://127.0.0.1/${name}`, network: `net${ci}`, region: `r${ci}`, state: 'connected', since: new Date().toISOString(), services: 0, endpoints: 0 },
    namespaces, services, endpointSlices, pods, nodes,
  };
}

const log = (s: string) => process.stderr.write(s + '\n');
const views = Array.from({ length: CLUSTERS }, (_, i) => build(i));
log(`built ${CLUSTERS}×${SERVICES}×${EPS} objects`);

let t = performance.now();
structuredClone(views);
const baselineMs = performance.now() - t;
log(`baseline structuredClone: ${baselineMs.toFixed(1)} ms`);

t = performance.now();
// one cache for the run, as a Federation owns one
const cache = new MergeCache();
const snap = mergeClusters(views, { version: 1, now: new Date(), cache });
const mergeMs = performance.now() - t;
const endpoints = [...snap.services.values()].reduce((n, s) => n + s.endpoints.length, 0);
log(`merge: ${mergeMs.toFixed(1)} ms, ${snap.services.size} services, ${endpoints} endpoints`);

t = performance.now();
const plan = planReplication(snap, views.map((v) => ({ cluster: v.status.name, namespaces: v.namespaces, services: v.services, pods: v.pods })));
const planMs = performance.now() - t;
log(`plan: ${planMs.toFixed(1)} ms, ${plan.length} actions`);

// one EndpointSlice change at a time, merged two ways side by side: in full reusing unchanged services
// (previous only), and dirty-key (previous + the one changed service key)
function changes(dirtyKeys: boolean): number[] {
  let prev = snap;
  const lat: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const v = views[i % CLUSTERS]!;
    const slices = [...v.endpointSlices];
    const idx = i % slices.length;
    const old = slices[idx]!;
    const ready = (i + (dirtyKeys ? 1 : 0)) % 2 === 0;
    slices[idx] = { ...old, endpoints: old.endpoints.map((e, j) => (j === 0 ? { ...e, conditions: { ready } } : e)) };
    views[i % CLUSTERS] = { ...v, endpointSlices: slices };
    const key = `ns${idx % 10}/svc-${i % CLUSTERS}-${idx}`;
    const t0 = performance.now();
    const next = mergeClusters(views, { version: 2 + i, now: new Date(), previous: prev, ...(dirtyKeys ? { dirty: new Set([key]) } : {}), cache });
    const addr = old.endpoints[0]!.addresses[0];
    if (next.services.get(key)!.endpoints.find((e) => e.address === addr)!.ready !== ready) throw new Error('change not in snapshot');
    prev = next;
    lat.push(performance.now() - t0);
    sampleRss();
  }
  return lat.sort((a, b) => a - b);
}
const full = changes(false);
const lat = changes(true);
clearInterval(timer);
const pctOf = (l: number[], p: number) => l[Math.min(l.length - 1, Math.floor(p * l.length))]!;
const pct = (p: number) => pctOf(lat, p);
log(`change→snapshot, full merge reusing services: p50 ${pctOf(full, 0.5).toFixed(1)} ms p99 ${pctOf(full, 0.99).toFixed(1)} ms`);
log(`change→snapshot, dirty-key merge: p50 ${pct(0.5).toFixed(1)} ms p99 ${pct(0.99).toFixed(1)} ms`);
sampleRss();
console.log(JSON.stringify({
  scope: 'pure merge/plan, in-memory objects (no informers, no API servers)',
  clusters: CLUSTERS, services: SERVICES * CLUSTERS, endpoints,
  baselineStructuredCloneMs: +baselineMs.toFixed(1),
  initialSnapshotMs: +mergeMs.toFixed(1),
  replicationPlanMs: +planMs.toFixed(1), replicationActions: plan.length,
  fullMergeChangeP50Ms: +pctOf(full, 0.5).toFixed(2), fullMergeChangeP99Ms: +pctOf(full, 0.99).toFixed(2),
  changeToSnapshotP50Ms: +pct(0.5).toFixed(2), changeToSnapshotP99Ms: +pct(0.99).toFixed(2),
  peakRssMB: Math.round(peakRss / 1e6),
}));
