// Kubernetes objects → security and egress model: what a malformed object is told, field by field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { egressFromKube, securityFromKube } from '../../src/security/parse.ts';

test('securityFromKube: metadata defaults generation to 1; missing names, a non-object spec and an unknown kind are named', () => {
  assert.deepEqual(securityFromKube({ apiVersion: 'security.istio.io/v1beta1', kind: 'PeerAuthentication', metadata: { namespace: 'd', name: 'p' }, spec: { mtls: { mode: 'STRICT' } } }),
    { kind: 'PeerAuthentication', metadata: { namespace: 'd', name: 'p', generation: 1 }, spec: { mtls: { mode: 'STRICT' } } });
  assert.deepEqual(securityFromKube({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { namespace: 'd' } }), { error: 'metadata.namespace, metadata.name: required (AuthorizationPolicy d/?)' });
  assert.deepEqual(securityFromKube({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { namespace: 'd', name: 'a' }, spec: [] as never }), { error: 'spec: must be an object' });
  assert.deepEqual(securityFromKube({ apiVersion: 'security.istio.io/v1', kind: 'RequestAuthentication', metadata: { namespace: 'd', name: 'a' } }), { error: 'kind: RequestAuthentication is not AuthorizationPolicy or PeerAuthentication' });
});

test('egressFromKube: v1alpha3 accepted, spec kept; missing names, a non-object spec and an unknown kind are named', () => {
  assert.deepEqual(egressFromKube({ apiVersion: 'networking.istio.io/v1alpha3', kind: 'ServiceEntry', metadata: { namespace: 'd', name: 'se', generation: 4 }, spec: { hosts: ['a.example'] } }),
    { kind: 'ServiceEntry', metadata: { namespace: 'd', name: 'se', generation: 4 }, spec: { hosts: ['a.example'] } });
  assert.deepEqual(egressFromKube({ apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: { name: 'default' } }), { error: 'metadata.namespace, metadata.name: required' });
  assert.deepEqual(egressFromKube({ apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: { namespace: 'd', name: 'default' }, spec: 'x' as never }), { error: 'spec: must be an object' });
  assert.deepEqual(egressFromKube({ apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { namespace: 'd', name: 'g' } }), { error: 'kind: Gateway is not ServiceEntry or Sidecar' });
  assert.match((egressFromKube({ apiVersion: 'networking.istio.io/v2', kind: 'Sidecar', metadata: { namespace: 'd', name: 'default' } }) as { error: string }).error, /^apiVersion: networking\.istio\.io\/v2 is not/);
});
