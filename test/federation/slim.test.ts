import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { mergeClusters, type ClusterView } from '../../src/federation/merge.ts';
import { planReplication } from '../../src/federation/replicationPlan.ts';
import { slim } from '../../src/federation/slim.ts';
import { view } from './fixtures.ts';

const now = new Date('2026-02-02T00:00:00Z');
const bulky = { managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:spec': {} } }], uid: 'u-1', generateName: 'x-', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u-rs' }] };

// Objects as an API server returns them: everything federation reads, and much it does not.
function cluster(name: string, federated: boolean): ClusterView {
  const namespaces: k8s.V1Namespace[] = [
    { metadata: { name: 'demo', resourceVersion: '1', labels: federated ? { 'meshfed.io/federation': 'enabled' } : {}, ...bulky }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } },
    { metadata: { name: 'gone', resourceVersion: '1', labels: { 'app.kubernetes.io/managed-by': 'meshfed' } }, status: { phase: 'Terminating' } },
  ];
  const services: k8s.V1Service[] = [
    { metadata: { namespace: 'demo', name: 'echo', resourceVersion: '5', creationTimestamp: new Date('2026-01-01T00:00:00Z'), labels: { app: 'echo' }, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":true}' }, ...bulky }, spec: { type: 'ClusterIP', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ipFamilies: ['IPv4'], sessionAffinity: 'None', selector: { app: 'echo' }, ports: [{ name: 'grpc', port: 7070, protocol: 'TCP', targetPort: 7070 as unknown as k8s.IntOrString }] }, status: { loadBalancer: {} } },
    { metadata: { namespace: 'demo', name: 'other', resourceVersion: '6', labels: { 'app.kubernetes.io/managed-by': 'meshfed' }, annotations: { 'meshfed.io/source-clusters': 'z', note: 'x'.repeat(1000) } }, spec: { type: 'ClusterIP', ports: [{ port: 80, protocol: 'TCP' }] } },
    { metadata: { namespace: 'meshfed-system', name: 'eastwest', resourceVersion: '7', labels: { 'meshfed.io/gateway': 'eastwest', 'topology.istio.io/network': `net-${name}` } }, spec: { type: 'LoadBalancer', externalIPs: ['192.0.2.7'], ports: [{ name: 'tls', port: 15443 }] }, status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } } },
  ];
  const pods: k8s.V1Pod[] = [0, 1].map((i) => ({
    metadata: { namespace: 'demo', name: `echo-${i}`, resourceVersion: '9', labels: { app: 'echo', ...(i ? { 'security.istio.io/tlsMode': 'istio' } : {}) }, annotations: { 'meshfed.io/inbound-port': '16000', 'prometheus.io/scrape': 'true' }, ...bulky },
    spec: { nodeName: 'n1', serviceAccountName: 'echo-sa', containers: [{ name: 'app', image: 'echo:1', env: [{ name: 'A', value: 'x'.repeat(500) }] }], volumes: [{ name: 'v', emptyDir: {} }] },
    status: { phase: 'Running', podIP: `10.0.0.${i + 1}`, conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'app', image: 'echo:1', imageID: 'sha', ready: true, restartCount: 0 }] },
  }));
  const nodes: k8s.V1Node[] = [{ metadata: { name: 'n1', resourceVersion: '3', labels: { 'topology.kubernetes.io/region': 'eu', 'topology.kubernetes.io/zone': 'eu-1' } }, spec: { podCIDR: '10.0.0.0/24' }, status: { images: [{ names: ['a'.repeat(200)], sizeBytes: 1 }], capacity: { cpu: '4' } } }];
  const endpointSlices: k8s.V1EndpointSlice[] = [{ metadata: { namespace: 'demo', name: 'echo-x', resourceVersion: '4', labels: { 'kubernetes.io/service-name': 'echo' }, ...bulky }, addressType: 'IPv4', ports: [{ name: 'grpc', port: 7070 }], endpoints: [0, 1].map((i) => ({ addresses: [`10.0.0.${i + 1}`], conditions: { ready: i === 0 }, nodeName: 'n1', zone: 'eu-1', targetRef: { kind: 'Pod', name: `echo-${i}`, namespace: 'demo' } })) }];
  return view(name, { namespaces, services, pods, nodes, endpointSlices });
}

function slimmed(v: ClusterView): ClusterView {
  const c = structuredClone(v);
  for (const o of c.namespaces) slim('namespaces', o);
  for (const o of c.services) slim('services', o);
  for (const o of c.pods) slim('pods', o);
  for (const o of c.nodes) slim('nodes', o);
  for (const o of c.endpointSlices) slim('endpointSlices', o);
  return c;
}

test('slimmed objects merge and plan exactly as the full ones, at a fraction of the size', () => {
  const full = [cluster('a', true), cluster('b', false)];
  const small = full.map(slimmed);
  const content = (s: ReturnType<typeof mergeClusters>) => ({ clusters: s.clusters, services: [...s.services], gateways: s.gateways });
  const fullSnap = mergeClusters(full, { version: 1, now });
  const smallSnap = mergeClusters(small, { version: 1, now });
  assert.equal(fullSnap.services.get('demo/echo')?.endpoints.length, 4, 'the fixture exercises endpoints from both clusters');
  assert.equal(fullSnap.gateways.length, 2);
  assert.deepEqual(content(smallSnap), content(fullSnap));
  const objs = (vs: ClusterView[]) => vs.map((v) => ({ cluster: v.status.name, namespaces: v.namespaces, services: v.services, pods: v.pods }));
  const fullPlan = planReplication(fullSnap, objs(full));
  assert.ok(fullPlan.length > 0);
  assert.deepEqual(planReplication(smallSnap, objs(small)), fullPlan);

  const size = (v: ClusterView) => JSON.stringify(v).length;
  assert.ok(size(small[0]!) < size(full[0]!) / 2, `slimmed ${size(small[0]!)} bytes vs ${size(full[0]!)}`);
  const p = small[0]!.pods[0]!;
  assert.equal(p.metadata?.managedFields, undefined);
  assert.equal(p.metadata?.resourceVersion, '9', 'the informer compares resourceVersions');
  assert.deepEqual(p.metadata?.annotations, { 'meshfed.io/inbound-port': '16000' });
  assert.deepEqual(p.spec, { containers: [], nodeName: 'n1', serviceAccountName: 'echo-sa' });
  assert.equal(small[0]!.services[0]!.metadata?.annotations, undefined, "kubectl's last-applied copy is dropped");
  assert.deepEqual(small[0]!.nodes[0]!.status, {});
  // slimming twice (a relist hands cached objects to the delete callback) changes nothing
  const again = structuredClone(small[0]!);
  for (const o of again.pods) slim('pods', o);
  for (const o of again.services) slim('services', o);
  assert.deepEqual(again, small[0]);
});
