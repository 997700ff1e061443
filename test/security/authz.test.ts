// Istio's AuthorizationPolicy semantics, row by row, through the whole path a request takes: the policies that apply
// to a workload → Envoy RBAC filter configs (as pilot builds them) → protobuf encoding and decoding (as they travel
// over xDS) → the sidecar's RBAC engine. Each row is a decision a user would see (200 vs 403).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { packAny, unpackAny, TYPE_URL } from '../../src/xds/protos.ts';
import { authorizationFor } from '../../src/security/select.ts';
import { workloadRbac } from '../../src/security/authzTranslate.ts';
import { compileRbac, evaluateRbac, type RbacDecision, type RbacRequest } from '../../src/proxy/rbacEngine.ts';
import type { RbacFilter } from '../../src/security/rbacTypes.ts';
import type { AuthorizationPolicy, AuthorizationPolicySpec, WorkloadRef } from '../../src/security/types.ts';

const ECHO: WorkloadRef = { namespace: 'demo', labels: { app: 'echo', version: 'v1' } };
const SLEEP = 'spiffe://cluster.local/ns/demo/sa/sleep';
const OTHER = 'spiffe://cluster.local/ns/other/sa/client';

const ap = (name: string, spec: AuthorizationPolicySpec, namespace = 'demo'): AuthorizationPolicy => ({ kind: 'AuthorizationPolicy', metadata: { namespace, name, generation: 1 }, spec });

interface Req { principal?: string; ip?: string; port?: number; method?: string; path?: string; host?: string; headers?: Record<string, string> }
const toRequest = (q: Req): RbacRequest => {
  const h: Record<string, string> = { ':method': q.method ?? 'GET', ':path': q.path ?? '/', ':authority': q.host ?? 'echo.demo:8080', ...(q.headers ?? {}) };
  return { ...(q.principal !== undefined ? { principal: q.principal } : {}), sourceIp: q.ip ?? '10.1.2.3', destinationPort: q.port ?? 8080, headers: (n) => h[n], path: (q.path ?? '/').split('?')[0]! };
};

/** The decision for one request, through encoding as xDS carries it. */
function decide(policies: AuthorizationPolicy[], q: Req, opts: { tcp?: boolean; workload?: WorkloadRef } = {}): RbacDecision {
  const rbac = workloadRbac(authorizationFor(policies, opts.workload ?? ECHO));
  const filters = opts.tcp ? rbac.tcp : rbac.http;
  const type = opts.tcp ? TYPE_URL.rbacNetwork : TYPE_URL.rbacHttp;
  const wire = filters.map((f) => unpackAny<RbacFilter>(packAny(type, f)));
  const r = toRequest(q);
  return evaluateRbac(wire.map(compileRbac), opts.tcp ? { ...r, headers: undefined, path: undefined } : r);
}
const allowed = (p: AuthorizationPolicy[], q: Req, o?: Parameters<typeof decide>[2]): boolean => decide(p, q, o).allowed;

test('evaluation order: DENY first, no ALLOW policy allows, an ALLOW match allows, else deny; empty-rules ALLOW denies all', () => {
  const denyPost = ap('deny-post', { action: 'DENY', rules: [{ from: [{ source: { principals: ['cluster.local/ns/demo/sa/sleep'] } }], to: [{ operation: { methods: ['POST'] } }] }] });
  const allowSleep = ap('allow-sleep', { action: 'ALLOW', rules: [{ from: [{ source: { principals: ['cluster.local/ns/demo/sa/sleep'] } }] }] });
  // no policy at all → allow
  assert.equal(allowed([], { principal: SLEEP }), true);
  assert.equal(decide([], { principal: SLEEP }).enforced, false);
  // DENY matches → deny, naming the policy
  const d = decide([denyPost], { principal: SLEEP, method: 'POST' });
  assert.deepEqual([d.allowed, d.policy], [false, 'ns[demo]-policy[deny-post]-rule[0]']);
  // DENY does not match and no ALLOW policy → allow
  assert.equal(allowed([denyPost], { principal: SLEEP, method: 'GET' }), true);
  assert.equal(allowed([denyPost], { principal: OTHER, method: 'POST' }), true);
  // an ALLOW match → allow; an ALLOW policy exists but nothing matches → deny
  assert.equal(allowed([allowSleep], { principal: SLEEP }), true);
  assert.equal(allowed([allowSleep], { principal: OTHER }), false);
  assert.equal(decide([allowSleep], { principal: OTHER }).policy, '');
  // DENY wins over a matching ALLOW
  assert.equal(allowed([denyPost, allowSleep], { principal: SLEEP, method: 'POST' }), false);
  assert.equal(allowed([denyPost, allowSleep], { principal: SLEEP, method: 'GET' }), true);
  // ALLOW without rules ("allow-nothing") denies everything, also beside another ALLOW that matches nothing
  assert.equal(allowed([ap('allow-nothing', {})], { principal: SLEEP }), false);
  assert.equal(allowed([ap('allow-nothing', { action: 'ALLOW' })], {}), false);
  // ALLOW with one empty rule ("allow-all") allows everything; allow-nothing beside it does not take it back
  assert.equal(allowed([ap('allow-all', { rules: [{}] })], {}), true);
  assert.equal(allowed([ap('allow-all', { rules: [{}] }), ap('allow-nothing', {})], {}), true);
  // DENY with an empty rule denies all; DENY without rules matches nothing
  assert.equal(allowed([ap('deny-all', { action: 'DENY', rules: [{}] })], { principal: SLEEP }), false);
  assert.equal(allowed([ap('deny-none', { action: 'DENY' })], { principal: SLEEP }), true);
});

test('AUDIT is logged, never enforced', () => {
  const audit = ap('audit-post', { action: 'AUDIT', rules: [{ to: [{ operation: { methods: ['POST'] } }] }] });
  const d = decide([audit], { principal: SLEEP, method: 'POST' });
  assert.equal(d.allowed, true);
  assert.deepEqual(d.audited, ['ns[demo]-policy[audit-post]-rule[0]']);
  assert.deepEqual(decide([audit], { method: 'GET' }).audited, []);
  // audit beside a DENY: the denied request is also audited
  const both = decide([audit, ap('deny-all', { action: 'DENY', rules: [{}] })], { method: 'POST' });
  assert.deepEqual([both.allowed, both.audited.length], [false, 1]);
});

test('source: principals (exact, prefix*, *suffix, *), notPrincipals, namespaces, notNamespaces, ipBlocks, notIpBlocks', () => {
  const allowFrom = (source: Record<string, string[]>): AuthorizationPolicy[] => [ap('a', { rules: [{ from: [{ source }] }] })];
  assert.equal(allowed(allowFrom({ principals: ['cluster.local/ns/demo/sa/sleep'] }), { principal: SLEEP }), true);
  assert.equal(allowed(allowFrom({ principals: ['cluster.local/ns/demo/sa/sleep'] }), { principal: `${SLEEP}x` }), false);
  assert.equal(allowed(allowFrom({ principals: ['cluster.local/ns/demo/*'] }), { principal: SLEEP }), true);
  assert.equal(allowed(allowFrom({ principals: ['cluster.local/ns/demo/*'] }), { principal: OTHER }), false);
  assert.equal(allowed(allowFrom({ principals: ['*/sa/sleep'] }), { principal: SLEEP }), true);
  assert.equal(allowed(allowFrom({ principals: ['*/sa/sleep'] }), { principal: OTHER }), false);
  assert.equal(allowed(allowFrom({ principals: ['*'] }), { principal: OTHER }), true, '"*" = any authenticated peer');
  assert.equal(allowed(allowFrom({ principals: ['*'] }), {}), false, '"*" does not match a plaintext caller');
  assert.equal(allowed(allowFrom({ notPrincipals: ['cluster.local/ns/demo/sa/sleep'] }), { principal: OTHER }), true);
  assert.equal(allowed(allowFrom({ notPrincipals: ['cluster.local/ns/demo/sa/sleep'] }), { principal: SLEEP }), false);
  assert.equal(allowed(allowFrom({ namespaces: ['demo'] }), { principal: SLEEP }), true);
  assert.equal(allowed(allowFrom({ namespaces: ['demo'] }), { principal: OTHER }), false);
  assert.equal(allowed(allowFrom({ namespaces: ['dem*'] }), { principal: SLEEP }), true);
  assert.equal(allowed(allowFrom({ namespaces: ['*her'] }), { principal: OTHER }), true);
  assert.equal(allowed(allowFrom({ namespaces: ['de.o'] }), { principal: SLEEP }), false, 'a namespace is not a regex');
  assert.equal(allowed(allowFrom({ namespaces: ['demo'] }), {}), false, 'plaintext has no namespace');
  assert.equal(allowed(allowFrom({ notNamespaces: ['demo'] }), { principal: OTHER }), true);
  assert.equal(allowed(allowFrom({ notNamespaces: ['demo'] }), { principal: SLEEP }), false);
  assert.equal(allowed(allowFrom({ ipBlocks: ['10.1.0.0/16'] }), { ip: '10.1.200.9' }), true);
  assert.equal(allowed(allowFrom({ ipBlocks: ['10.1.0.0/16'] }), { ip: '10.2.0.1' }), false);
  assert.equal(allowed(allowFrom({ ipBlocks: ['10.1.2.3'] }), { ip: '::ffff:10.1.2.3' }), true, 'a single address, v4-mapped peer');
  assert.equal(allowed(allowFrom({ notIpBlocks: ['10.1.0.0/16'] }), { ip: '10.1.0.1' }), false);
  assert.equal(allowed(allowFrom({ ipBlocks: ['10.0.0.0/8'] }), { ip: '10.255.255.255' }), true, 'the last address of a range');
  assert.equal(allowed(allowFrom({ ipBlocks: ['10.0.0.0/8'] }), { ip: '11.0.0.0' }), false, 'the first address past it');
  assert.equal(allowed(allowFrom({ ipBlocks: ['0.0.0.0/0'] }), { ip: '203.0.113.9' }), true);
  assert.equal(allowed(allowFrom({ ipBlocks: ['0.0.0.0/0'] }), { ip: '2001:db8::1' }), false, 'an IPv4 range holds no IPv6 address');
  assert.equal(allowed(allowFrom({ ipBlocks: ['2001:db8::/32'] }), { ip: '2001:db8:0:1::5' }), true);
  assert.equal(allowed(allowFrom({ ipBlocks: ['2001:db8::/32'] }), { ip: '10.1.2.3' }), false);
  // fields of one source are ANDed; sources are ORed; values of one field are ORed
  assert.equal(allowed(allowFrom({ namespaces: ['demo'], ipBlocks: ['10.9.0.0/16'] }), { principal: SLEEP }), false);
  assert.equal(allowed([ap('a', { rules: [{ from: [{ source: { namespaces: ['nope'] } }, { source: { principals: ['cluster.local/ns/other/sa/client'] } }] }] })], { principal: OTHER }), true);
  assert.equal(allowed(allowFrom({ principals: ['x/ns/y/sa/z', 'cluster.local/ns/demo/sa/sleep'] }), { principal: SLEEP }), true);
});

test('operation: hosts, ports, methods, paths (exact, prefix*, *suffix, *) and their not-forms; operations are ORed', () => {
  const allowTo = (operation: Record<string, string[]>): AuthorizationPolicy[] => [ap('a', { rules: [{ to: [{ operation }] }] })];
  assert.equal(allowed(allowTo({ methods: ['GET', 'HEAD'] }), { method: 'HEAD' }), true);
  assert.equal(allowed(allowTo({ methods: ['GET'] }), { method: 'POST' }), false);
  assert.equal(allowed(allowTo({ notMethods: ['POST'] }), { method: 'POST' }), false);
  assert.equal(allowed(allowTo({ notMethods: ['POST'] }), { method: 'GET' }), true);
  assert.equal(allowed(allowTo({ paths: ['/api'] }), { path: '/api?x=1' }), true, 'the query is not part of the path');
  assert.equal(allowed(allowTo({ paths: ['/api'] }), { path: '/api/x' }), false);
  assert.equal(allowed(allowTo({ paths: ['/api/*'] }), { path: '/api/x/y' }), true);
  assert.equal(allowed(allowTo({ paths: ['*.png'] }), { path: '/img/a.png' }), true);
  assert.equal(allowed(allowTo({ paths: ['*'] }), { path: '/anything' }), true);
  assert.equal(allowed(allowTo({ notPaths: ['/admin*'] }), { path: '/admin/users' }), false);
  assert.equal(allowed(allowTo({ notPaths: ['/admin*'] }), { path: '/public' }), true);
  assert.equal(allowed(allowTo({ hosts: ['echo.demo'] }), { host: 'echo.demo:8080' }), true, 'a host also matches with a port');
  assert.equal(allowed(allowTo({ hosts: ['ECHO.demo'] }), { host: 'echo.demo' }), true, 'hosts are case-insensitive');
  assert.equal(allowed(allowTo({ hosts: ['*.demo.svc.cluster.local'] }), { host: 'echo.demo:8080' }), false);
  assert.equal(allowed(allowTo({ hosts: ['*.demo.svc.cluster.local'] }), { host: 'echo.demo.svc.cluster.local' }), true);
  assert.equal(allowed(allowTo({ notHosts: ['echo.demo'] }), { host: 'echo.demo' }), false);
  assert.equal(allowed(allowTo({ ports: ['8080'] }), { port: 8080 }), true);
  assert.equal(allowed(allowTo({ ports: ['8080'] }), { port: 9090 }), false);
  assert.equal(allowed(allowTo({ notPorts: ['9090'] }), { port: 9090 }), false);
  // methods AND paths within one operation; two operations ORed
  assert.equal(allowed(allowTo({ methods: ['GET'], paths: ['/ok'] }), { method: 'GET', path: '/no' }), false);
  assert.equal(allowed([ap('a', { rules: [{ to: [{ operation: { methods: ['PUT'] } }, { operation: { paths: ['/ok'] } }] }] })], { method: 'GET', path: '/ok' }), true);
});

test('when: request.headers[…], source.principal, source.namespace, destination.port (values and notValues)', () => {
  const allowWhen = (key: string, values?: string[], notValues?: string[]): AuthorizationPolicy[] => [ap('a', { rules: [{ when: [{ key, ...(values ? { values } : {}), ...(notValues ? { notValues } : {}) }] }] })];
  assert.equal(allowed(allowWhen('request.headers[X-Token]', ['abc']), { headers: { 'x-token': 'abc' } }), true);
  assert.equal(allowed(allowWhen('request.headers[X-Token]', ['abc']), { headers: { 'x-token': 'abd' } }), false);
  assert.equal(allowed(allowWhen('request.headers[X-Token]', ['ab*']), { headers: { 'x-token': 'abd' } }), true);
  assert.equal(allowed(allowWhen('request.headers[X-Token]', ['*']), {}), false, '"*" needs the header present');
  assert.equal(allowed(allowWhen('request.headers[X-Token]', undefined, ['bad']), { headers: { 'x-token': 'bad' } }), false);
  assert.equal(allowed(allowWhen('request.headers[X-Token]', undefined, ['bad']), { headers: { 'x-token': 'good' } }), true);
  assert.equal(allowed(allowWhen('source.principal', ['cluster.local/ns/demo/sa/sleep']), { principal: SLEEP }), true);
  assert.equal(allowed(allowWhen('source.principal', ['cluster.local/ns/demo/sa/sleep']), { principal: OTHER }), false);
  assert.equal(allowed(allowWhen('source.principal', undefined, ['cluster.local/ns/demo/sa/sleep']), { principal: OTHER }), true);
  assert.equal(allowed(allowWhen('source.namespace', ['other']), { principal: OTHER }), true);
  assert.equal(allowed(allowWhen('source.namespace', ['other']), { principal: SLEEP }), false);
  assert.equal(allowed(allowWhen('destination.port', ['8080']), { port: 8080 }), true);
  assert.equal(allowed(allowWhen('destination.port', undefined, ['8080']), { port: 8080 }), false);
  // when AND from AND to
  const all = [ap('a', { rules: [{ from: [{ source: { namespaces: ['demo'] } }], to: [{ operation: { methods: ['GET'] } }], when: [{ key: 'request.headers[x-env]', values: ['prod'] }] }] })];
  assert.equal(allowed(all, { principal: SLEEP, method: 'GET', headers: { 'x-env': 'prod' } }), true);
  assert.equal(allowed(all, { principal: SLEEP, method: 'GET', headers: { 'x-env': 'dev' } }), false);
  assert.equal(allowed(all, { principal: OTHER, method: 'GET', headers: { 'x-env': 'prod' } }), false);
});

test('scope: selector, namespace-wide, mesh-wide in the root namespace', () => {
  const denyAll = (name: string, namespace: string, matchLabels?: Record<string, string>) => ap(name, { action: 'DENY', rules: [{}], ...(matchLabels ? { selector: { matchLabels } } : {}) }, namespace);
  assert.equal(allowed([denyAll('d', 'demo', { app: 'echo' })], {}), false, 'selector matches echo');
  assert.equal(allowed([denyAll('d', 'demo', { app: 'other' })], {}), true, 'selector does not match echo');
  assert.equal(allowed([denyAll('d', 'demo', { app: 'echo', version: 'v2' })], {}), true, 'every label must match');
  assert.equal(allowed([denyAll('d', 'demo')], {}), false, 'namespace-wide');
  assert.equal(allowed([denyAll('d', 'other')], {}), true, 'another namespace does not apply');
  assert.equal(allowed([denyAll('d', 'meshfed-system')], {}), false, 'mesh-wide in the root namespace');
  assert.equal(allowed([denyAll('d', 'meshfed-system', { app: 'echo' })], {}), false, 'root namespace + selector: matching workloads in every namespace');
  assert.equal(allowed([denyAll('d', 'meshfed-system', { app: 'x' })], {}), true);
});

test('TCP (CONNECT tunnels): HTTP-only fields make an ALLOW rule allow nothing and are dropped from a DENY rule', () => {
  const allowGet = ap('allow-get', { rules: [{ from: [{ source: { namespaces: ['demo'] } }], to: [{ operation: { methods: ['GET'] } }] }] });
  assert.equal(allowed([allowGet], { principal: SLEEP, method: 'GET' }), true);
  assert.equal(allowed([allowGet], { principal: SLEEP }, { tcp: true }), false);
  const denyPost = ap('deny-post', { action: 'DENY', rules: [{ from: [{ source: { principals: ['cluster.local/ns/demo/sa/sleep'] } }], to: [{ operation: { methods: ['POST'] } }] }] });
  assert.equal(allowed([denyPost], { principal: SLEEP }, { tcp: true }), false, 'sleep cannot open a tunnel at all');
  assert.equal(allowed([denyPost], { principal: OTHER }, { tcp: true }), true);
  const allowPort = ap('allow-port', { rules: [{ from: [{ source: { principals: ['*'] } }], to: [{ operation: { ports: ['8080'] } }] }] });
  assert.equal(allowed([allowPort], { principal: OTHER, port: 8080 }, { tcp: true }), true, 'ports and principals work on TCP');
  assert.equal(allowed([allowPort], { principal: OTHER, port: 9090 }, { tcp: true }), false);
});
