// Last-good reconciliation of egress objects (ServiceEntry, Sidecar), which shares keepLastGood with
// AuthorizationPolicy / PeerAuthentication (those are covered in inbound-listener.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reconcileEgress, type ServiceEntry, type SidecarResource } from '../../src/security/egress.ts';

const se = (name: string, generation: number, hosts: string[]): ServiceEntry => ({ kind: 'ServiceEntry', metadata: { namespace: 'demo', name, generation }, spec: { hosts, ports: [{ number: 80, name: 'http' }] } });
const sc = (namespace: string, generation: number, spec: SidecarResource['spec']): SidecarResource => ({ kind: 'Sidecar', metadata: { namespace, name: 'default', generation }, spec });

test('egress: an invalid new generation keeps the last good one in force and is reported by field; others are unaffected', () => {
  const first = reconcileEgress({ serviceEntries: [], sidecars: [] }, { serviceEntries: [se('api', 1, ['api.example']), se('other', 1, ['other.example'])], sidecars: [sc('demo', 1, { outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } })] });
  assert.deepEqual(first.rejected, []);
  const second = reconcileEgress(first.good, {
    serviceEntries: [se('api', 2, ['not a host']), se('other', 2, ['other2.example'])],
    sidecars: [sc('demo', 2, { outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' }, workloadSelector: { labels: { app: 'x' } } } as SidecarResource['spec'])],
  });
  assert.deepEqual(second.good.serviceEntries.map((o) => `${o.metadata.name}@${o.metadata.generation}:${o.spec.hosts.join(',')}`), ['api@1:api.example', 'other@2:other2.example']);
  assert.deepEqual(second.good.sidecars.map((o) => `${o.metadata.namespace}@${o.metadata.generation}`), ['demo@1']);
  assert.deepEqual(second.rejected.map((r) => `${r.kind} ${r.namespace}/${r.name} gen ${r.generation}: ${r.reasons.join('; ')}`), [
    'ServiceEntry demo/api gen 2: spec.hosts[0]: "not a host" is not a host name (a leading "*." is allowed)',
    'Sidecar demo/default gen 2: spec.workloadSelector: not supported by meshfed (a Sidecar applies to its whole namespace)',
  ]);
});

test('egress: an invalid object with no good version is left out; a deleted one is gone', () => {
  const r = reconcileEgress({ serviceEntries: [se('gone', 1, ['gone.example'])], sidecars: [] }, { serviceEntries: [se('new', 1, [])], sidecars: [] });
  assert.deepEqual(r.good, { serviceEntries: [], sidecars: [] });
  assert.deepEqual(r.rejected.map((x) => x.reasons), [['spec.hosts: at least one host is required']]);
});
