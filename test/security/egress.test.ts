// Egress decisions as the sidecar makes them from pilot's virtualOutbound listener (encoded and decoded as over
// xDS), the outboundTrafficPolicy precedence, and ServiceEntry/Sidecar validation naming the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outboundListener, outboundModeFor, validateServiceEntry, validateSidecar, type EgressSet, type ServiceEntry, type SidecarResource } from '../../src/security/egress.ts';
import { packAny, unpackAny, TYPE_URL } from '../../src/xds/protos.ts';
import { decideEgress, egressPolicyFromListener } from '../../src/proxy/egressPolicy.ts';

const se = (name: string, spec: ServiceEntry['spec'], namespace = 'demo'): ServiceEntry => ({ kind: 'ServiceEntry', metadata: { namespace, name, generation: 1 }, spec });
const sc = (namespace: string, mode: 'ALLOW_ANY' | 'REGISTRY_ONLY'): SidecarResource => ({ kind: 'Sidecar', metadata: { namespace, name: 'default', generation: 1 }, spec: { outboundTrafficPolicy: { mode } } });
const policy = (set: EgressSet, ns = 'demo') => egressPolicyFromListener(unpackAny(packAny(TYPE_URL.listener, outboundListener(set, ns))));

test('outboundTrafficPolicy: the namespace\'s Sidecar, else the root namespace\'s, else ALLOW_ANY', () => {
  assert.equal(outboundModeFor({ serviceEntries: [], sidecars: [] }, 'demo'), 'ALLOW_ANY');
  assert.equal(outboundModeFor({ serviceEntries: [], sidecars: [sc('meshfed-system', 'REGISTRY_ONLY')] }, 'demo'), 'REGISTRY_ONLY');
  assert.equal(outboundModeFor({ serviceEntries: [], sidecars: [sc('meshfed-system', 'REGISTRY_ONLY'), sc('demo', 'ALLOW_ANY')] }, 'demo'), 'ALLOW_ANY');
  assert.equal(outboundModeFor({ serviceEntries: [], sidecars: [sc('other', 'REGISTRY_ONLY')] }, 'demo'), 'ALLOW_ANY');
});

test('decisions: ServiceEntry by host (exact, *.wildcard), by address block, port must match; else passthrough or refused', () => {
  const set: EgressSet = {
    serviceEntries: [
      se('api', { hosts: ['api.example.com'], ports: [{ number: 443, name: 'tls' }], resolution: 'DNS' }),
      se('static', { hosts: ['db.internal'], ports: [{ number: 5432, name: 'pg', targetPort: 6432 }], resolution: 'STATIC', endpoints: [{ address: '10.0.0.7' }, { address: '10.0.0.8', ports: { pg: 7000 } }] }),
      se('wild', { hosts: ['*.googleapis.com'], addresses: ['192.0.2.0/24'], ports: [{ number: 80, name: 'http' }] }),
    ],
    sidecars: [sc('meshfed-system', 'REGISTRY_ONLY')],
  };
  const p = policy(set);
  assert.equal(p.mode, 'REGISTRY_ONLY');
  assert.deepEqual(decideEgress(p, 'API.example.com', 443), { kind: 'service_entry', host: 'api.example.com', port: 443, serviceEntry: 'demo/api' });
  assert.deepEqual(decideEgress(p, 'api.example.com', 80), { kind: 'refused' }, 'another port is not in the entry');
  assert.deepEqual(decideEgress(p, 'db.internal', 5432, 0), { kind: 'service_entry', host: '10.0.0.7', port: 6432, serviceEntry: 'demo/static' });
  assert.deepEqual(decideEgress(p, 'db.internal', 5432, 1), { kind: 'service_entry', host: '10.0.0.8', port: 7000, serviceEntry: 'demo/static' });
  assert.equal(decideEgress(p, 'storage.googleapis.com', 80).kind, 'service_entry');
  assert.equal(decideEgress(p, 'googleapis.com', 80).kind, 'refused', '*.x does not match x itself');
  assert.equal(decideEgress(p, '192.0.2.44', 80).kind, 'service_entry', 'an address in spec.addresses');
  assert.equal(decideEgress(p, '198.51.100.1', 80).kind, 'refused');
  const open = policy({ ...set, sidecars: [] });
  assert.deepEqual(decideEgress(open, 'example.org', 8080), { kind: 'passthrough', host: 'example.org', port: 8080 });
});

test('validation names the field', () => {
  assert.deepEqual(validateServiceEntry(se('x', { hosts: [], ports: [] })), ['spec.hosts: at least one host is required', 'spec.ports: at least one port is required']);
  assert.match(validateServiceEntry(se('x', { hosts: ['a b'], ports: [{ number: 80 }] }))[0]!, /^spec\.hosts\[0\]: "a b" is not a host name/);
  assert.match(validateServiceEntry(se('x', { hosts: ['a.com'], ports: [{ number: 0 }] }))[0]!, /^spec\.ports\[0\]\.number: must be a port number/);
  assert.deepEqual(validateServiceEntry(se('x', { hosts: ['a.com'], ports: [{ number: 80 }], resolution: 'STATIC' })), ['spec.endpoints: resolution STATIC needs at least one endpoint']);
  assert.match(validateServiceEntry(se('x', { hosts: ['a.com'], ports: [{ number: 80 }], resolution: 'STATIC', endpoints: [{ address: 'host.name' }] }))[0]!, /^spec\.endpoints\[0\]\.address: "host\.name" must be an IP address with resolution STATIC/);
  assert.match(validateServiceEntry(se('x', { hosts: ['a.com'], ports: [{ number: 80 }], addresses: ['300.1.1.1'] }))[0]!, /^spec\.addresses\[0\]: "300\.1\.1\.1" is not an IP address or CIDR block/);
  assert.deepEqual(validateSidecar({ ...sc('demo', 'ALLOW_ANY'), spec: { outboundTrafficPolicy: { mode: 'OPEN' as 'ALLOW_ANY' } } }), ['spec.outboundTrafficPolicy.mode: "OPEN" must be ALLOW_ANY or REGISTRY_ONLY']);
  assert.match(validateSidecar({ ...sc('demo', 'ALLOW_ANY'), spec: { egress: [{ hosts: ['./*'] }] } })[0]!, /^spec\.egress: egress listeners are not supported/);
});
