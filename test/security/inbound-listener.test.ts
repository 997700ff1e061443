// The inbound listener pilot builds per workload (mTLS modes as filter chains, authorization as RBAC filters), what
// `meshfed proxy-config` shows of it, how the sidecar reads it back, and the validation a bad policy gets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pilot } from '../../src/pilot/server.ts';
import { compileSecurity } from '../../src/security/pilotResources.ts';
import { inboundListener } from '../../src/security/inboundListener.ts';
import { effectiveMtls } from '../../src/security/select.ts';
import { validateAuthorizationPolicy, validatePeerAuthentication, reconcileSecurity } from '../../src/security/validate.ts';
import { securityFromKube } from '../../src/security/parse.ts';
import { dumpProxyConfig } from '../../src/xds/dump.ts';
import { packAny, unpackAny, TYPE_URL } from '../../src/xds/protos.ts';
import { acceptsTls, inboundPolicyFromListener, selectChain } from '../../src/proxy/inboundPolicy.ts';
import type { AuthorizationPolicy, PeerAuthentication, SecuritySet, WorkloadRef } from '../../src/security/types.ts';

const ECHO: WorkloadRef = { namespace: 'demo', labels: { app: 'echo' } };
const pa = (namespace: string, name: string, spec: PeerAuthentication['spec']): PeerAuthentication => ({ kind: 'PeerAuthentication', metadata: { namespace, name, generation: 1 }, spec });
const ap = (name: string, spec: AuthorizationPolicy['spec'], namespace = 'demo'): AuthorizationPolicy => ({ kind: 'AuthorizationPolicy', metadata: { namespace, name, generation: 1 }, spec });

/** The listener as the sidecar receives it: encoded by pilot, decoded by the xDS client. */
const overXds = (set: SecuritySet, w = ECHO) => inboundPolicyFromListener(unpackAny(packAny(TYPE_URL.listener, inboundListener(set, w))));

test('PeerAuthentication: workload over namespace over mesh-wide, UNSET inherits, PERMISSIVE by default, portLevelMtls', () => {
  assert.deepEqual(effectiveMtls([], ECHO), { mode: 'PERMISSIVE', ports: {} });
  const mesh = pa('meshfed-system', 'default', { mtls: { mode: 'STRICT' } });
  assert.equal(effectiveMtls([mesh], ECHO).mode, 'STRICT');
  assert.equal(effectiveMtls([mesh, pa('demo', 'ns', { mtls: { mode: 'PERMISSIVE' } })], ECHO).mode, 'PERMISSIVE');
  assert.equal(effectiveMtls([mesh, pa('demo', 'ns', { mtls: { mode: 'UNSET' } })], ECHO).mode, 'STRICT', 'UNSET inherits');
  assert.equal(effectiveMtls([mesh, pa('other', 'ns', { mtls: { mode: 'DISABLE' } })], ECHO).mode, 'STRICT', 'another namespace does not apply');
  const wl = pa('demo', 'echo', { selector: { matchLabels: { app: 'echo' } }, mtls: { mode: 'DISABLE' }, portLevelMtls: { 9000: { mode: 'STRICT' }, 9001: { mode: 'DISABLE' } } });
  assert.deepEqual(effectiveMtls([mesh, wl], ECHO), { mode: 'DISABLE', ports: { 9000: 'STRICT' } });
  assert.equal(effectiveMtls([mesh, wl], { namespace: 'demo', labels: { app: 'sleep' } }).mode, 'STRICT');
});

test('the sidecar reads its filter chains back: STRICT has no plaintext chain, PERMISSIVE does, a port-level STRICT wins for its port', () => {
  const permissive = overXds({ authorizationPolicies: [], peerAuthentications: [] });
  assert.ok(selectChain(permissive, { port: 8080, tls: false }));
  assert.ok(selectChain(permissive, { port: 8080, tls: true, alpn: 'http/1.1' }));
  assert.equal(selectChain(permissive, { port: 8080, tls: true, alpn: 'meshfed-tcp' })?.name, 'inbound-mtls-tcp');
  const strict = overXds({ authorizationPolicies: [], peerAuthentications: [pa('demo', 'default', { mtls: { mode: 'STRICT' } })] });
  assert.equal(selectChain(strict, { port: 8080, tls: false }), undefined);
  assert.ok(selectChain(strict, { port: 8080, tls: true }));
  const ports = overXds({ authorizationPolicies: [], peerAuthentications: [pa('demo', 'echo', { selector: { matchLabels: { app: 'echo' } }, mtls: { mode: 'PERMISSIVE' }, portLevelMtls: { 9000: { mode: 'STRICT' } } })] });
  assert.equal(selectChain(ports, { port: 9000, tls: false }), undefined);
  assert.equal(selectChain(ports, { port: 9000, tls: true })?.name, 'inbound-mtls-http|9000');
  assert.ok(selectChain(ports, { port: 8080, tls: false }));
  // RBAC filters ride along on every chain: HTTP ones in the connection manager, network ones for tunnels
  const withAuthz = overXds({ authorizationPolicies: [ap('deny', { action: 'DENY', rules: [{}] }), ap('allow', { rules: [{}] })], peerAuthentications: [] });
  const http = selectChain(withAuthz, { port: 8080, tls: true })!;
  assert.deepEqual(http.http.map((f) => f.action), ['DENY', 'ALLOW']);
  assert.deepEqual(selectChain(withAuthz, { port: 8080, tls: true, alpn: 'meshfed-tcp' })!.tcp.map((f) => f.action), ['DENY', 'ALLOW']);
  // DISABLE (as istiod builds it): plaintext chains only, so a TLS connection matches nothing and is closed; a STRICT
  // port of a DISABLE workload keeps its mTLS chains
  const disabled = overXds({ authorizationPolicies: [], peerAuthentications: [pa('demo', 'echo', { selector: { matchLabels: { app: 'echo' } }, mtls: { mode: 'DISABLE' }, portLevelMtls: { 9000: { mode: 'STRICT' } } })] });
  assert.ok(selectChain(disabled, { port: 8080, tls: false }));
  assert.equal(selectChain(disabled, { port: 8080, tls: true, alpn: 'http/1.1' }), undefined);
  assert.equal(selectChain(disabled, { port: 8080, tls: true, alpn: 'meshfed-tcp' }), undefined);
  assert.equal(selectChain(disabled, { port: 9000, tls: true })?.name, 'inbound-mtls-http|9000');
  assert.equal(acceptsTls(disabled), true, 'port 9000 still takes mTLS');
  const allDisabled = overXds({ authorizationPolicies: [], peerAuthentications: [pa('demo', 'default', { mtls: { mode: 'DISABLE' } })] });
  assert.equal(acceptsTls(allDisabled), false);
  assert.deepEqual(allDisabled.chains.map((c) => c.transport), ['raw_buffer']);
  // a listener the sidecar cannot honor is refused (the xDS client NACKs it, the last good stays)
  assert.throws(() => inboundPolicyFromListener({ name: 'virtualInbound', filter_chains: [] }), /no filter chain/);
});

test('pilot serves each sidecar its own inbound listener; proxy-config shows the RBAC decoded', async () => {
  const pilot = new Pilot({ port: 0, host: '127.0.0.1', debounceMs: 1 });
  await pilot.start();
  try {
    pilot.setSecurity(compileSecurity({ authorizationPolicies: [ap('deny-sleep', { action: 'DENY', rules: [{ from: [{ source: { principals: ['cluster.local/ns/demo/sa/sleep'] } }] }] })], peerAuthentications: [pa('demo', 'default', { mtls: { mode: 'STRICT' } })] }));
    await new Promise((r) => setTimeout(r, 20));
    const dump = async (ns: string) => dumpProxyConfig(`127.0.0.1:${pilot.port}`, { id: `sidecar~10.0.0.1~echo-0.${ns}~${ns}.svc.cluster.local`, metadata: { MESHFED_ROLE: 'sidecar' } }, ['virtualInbound']);
    const demo = JSON.stringify((await dump('demo')).listeners);
    assert.match(demo, /"@type":"type\.googleapis\.com\/envoy\.extensions\.filters\.http\.rbac\.v3\.RBAC"/);
    assert.match(demo, /ns\[demo\]-policy\[deny-sleep\]-rule\[0\]/);
    assert.match(demo, /"exact":"spiffe:\/\/cluster\.local\/ns\/demo\/sa\/sleep"/);
    assert.doesNotMatch(demo, /raw_buffer/, 'STRICT: no plaintext chain');
    const other = JSON.stringify((await dump('other')).listeners);
    assert.doesNotMatch(other, /deny-sleep/, 'a namespace\'s policy does not reach another namespace\'s sidecars');
    assert.match(other, /raw_buffer/, 'PERMISSIVE by default');
  } finally {
    await pilot.stop();
  }
});

test('validation names the field; an invalid update keeps the last good version; the rest of the set stays', () => {
  const errs = (spec: unknown) => validateAuthorizationPolicy(ap('x', spec as AuthorizationPolicy['spec']));
  assert.deepEqual(errs({ action: 'CUSTOM' }), ['spec.action: "CUSTOM" is not supported (ALLOW, DENY or AUDIT; CUSTOM external authorization is not implemented)']);
  assert.match(errs({ rules: [{ from: [{ source: { principals: ['a*b'] } }] }] })[0]!, /^spec\.rules\[0\]\.from\[0\]\.source\.principals\[0\]: "a\*b" may use "\*" only/);
  assert.match(errs({ rules: [{ from: [{ source: {} }] }] })[0]!, /^spec\.rules\[0\]\.from\[0\]\.source: at least one field must be set/);
  assert.match(errs({ rules: [{ from: [{ source: { ipBlocks: ['10.0.0.0/33'] } }] }] })[0]!, /^spec\.rules\[0\]\.from\[0\]\.source\.ipBlocks\[0\]: "10\.0\.0\.0\/33": prefix length must be 0\.\.32/);
  assert.match(errs({ rules: [{ to: [{ operation: { ports: ['http'] } }] }] })[0]!, /^spec\.rules\[0\]\.to\[0\]\.operation\.ports\[0\]: "http" is not a port number/);
  assert.match(errs({ rules: [{ to: [{ operation: { paths: ['api'] } }] }] })[0]!, /paths\[0\]: "api" must start with "\/"/);
  assert.match(errs({ rules: [{ to: [{ operation: { method: ['GET'] } }] }] })[0]!, /^spec\.rules\[0\]\.to\[0\]\.operation\.method: unknown field/);
  assert.match(errs({ rules: [{ when: [{ key: 'request.auth.claims[iss]', values: ['x'] }] }] })[0]!, /^spec\.rules\[0\]\.when\[0\]\.key: "request\.auth\.claims\[iss\]" is not supported/);
  assert.match(errs({ rules: [{ when: [{ key: 'source.namespace' }] }] })[0]!, /when\[0\]: at least one of values or notValues/);
  assert.match(errs({ rules: [{ from: [{ source: { requestPrincipals: ['*'] } }] }] })[0]!, /requestPrincipals: request principals \(JWT\) are not supported/);
  assert.deepEqual(errs({ action: 'DENY', selector: { matchLabels: { app: 'echo' } }, rules: [{ from: [{ source: { principals: ['*'], notNamespaces: ['x'] } }], to: [{ operation: { methods: ['GET'], notPaths: ['/admin*'] } }], when: [{ key: 'request.headers[x-a]', values: ['b'] }] }] }), []);
  assert.match(validatePeerAuthentication(pa('demo', 'x', { mtls: { mode: 'LOOSE' as 'STRICT' } }))[0]!, /^spec\.mtls\.mode: "LOOSE" must be one of UNSET, DISABLE, PERMISSIVE, STRICT/);
  assert.match(validatePeerAuthentication(pa('demo', 'x', { portLevelMtls: { 80: { mode: 'STRICT' } } }))[0]!, /^spec\.portLevelMtls: needs spec\.selector\.matchLabels/);
  assert.match((securityFromKube({ apiVersion: 'security.istio.io/v2', kind: 'AuthorizationPolicy', metadata: { namespace: 'd', name: 'n' } }) as { error: string }).error, /^apiVersion: security\.istio\.io\/v2 is not/);

  const good = ap('p', { rules: [{ from: [{ source: { namespaces: ['demo'] } }] }] });
  const other = ap('q', { action: 'DENY', rules: [{}] });
  const first = reconcileSecurity({ authorizationPolicies: [], peerAuthentications: [] }, { authorizationPolicies: [good, other], peerAuthentications: [] });
  assert.equal(first.good.authorizationPolicies.length, 2);
  const bad = { ...good, metadata: { ...good.metadata, generation: 2 }, spec: { rules: [{ from: [{ source: { namespaces: [''] } }] }] } };
  const second = reconcileSecurity(first.good, { authorizationPolicies: [bad, other], peerAuthentications: [] });
  assert.deepEqual(second.good.authorizationPolicies, [good, other], 'the last good p and the untouched q');
  assert.deepEqual(second.rejected.map((r) => [r.name, r.generation, r.reasons]), [['p', 2, ['spec.rules[0].from[0].source.namespaces[0]: must not be empty']]]);
  // a new object that is invalid from the start is simply not enforced
  const third = reconcileSecurity({ authorizationPolicies: [], peerAuthentications: [] }, { authorizationPolicies: [bad], peerAuthentications: [] });
  assert.deepEqual(third.good.authorizationPolicies, []);
});
