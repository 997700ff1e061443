// The sidecar skips RBAC policies that cannot match a request's principal and method (src/proxy/rbacIndex.ts). That
// must never change a decision: every request of a grid (named, unnamed and no principals; named, unnamed and no
// methods; HTTP and TCP) gets the same decision, policy and audit list as evaluating every policy — and a caller with
// its own ALLOW rule among 100 evaluates one policy, not 100.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { packAny, unpackAny, TYPE_URL } from '../../src/xds/protos.ts';
import { authorizationFor } from '../../src/security/select.ts';
import { workloadRbac } from '../../src/security/authzTranslate.ts';
import { compileRbac, evaluateRbac, type CompiledRbac, type RbacRequest } from '../../src/proxy/rbacEngine.ts';
import type { RbacFilter } from '../../src/security/rbacTypes.ts';
import type { AuthorizationPolicy, AuthorizationPolicySpec } from '../../src/security/types.ts';

const ap = (name: string, spec: AuthorizationPolicySpec): AuthorizationPolicy => ({ kind: 'AuthorizationPolicy', metadata: { namespace: 'demo', name, generation: 1 }, spec });
const p = (sa: string, ns = 'demo') => `cluster.local/ns/${ns}/sa/${sa}`;

function compiled(policies: AuthorizationPolicy[], tcp: boolean): CompiledRbac[] {
  const rbac = workloadRbac(authorizationFor(policies, { namespace: 'demo', labels: { app: 'echo' } }));
  return (tcp ? rbac.tcp : rbac.http).map((f) => compileRbac(unpackAny<RbacFilter>(packAny(tcp ? TYPE_URL.rbacNetwork : TYPE_URL.rbacHttp, f))));
}
const unindexed = (fs: CompiledRbac[]): CompiledRbac[] => fs.map((f) => ({ ...f, candidates: () => f.policies.map((_, i) => i) }));

const POLICIES: AuthorizationPolicy[] = [
  ap('deny-sleep-post', { action: 'DENY', rules: [{ from: [{ source: { principals: [p('sleep')] } }], to: [{ operation: { methods: ['POST'] } }] }] }),
  ap('deny-not-get', { action: 'DENY', rules: [{ from: [{ source: { principals: [p('batch')] } }], to: [{ operation: { notMethods: ['GET'] } }] }] }),
  ap('deny-ip', { action: 'DENY', rules: [{ from: [{ source: { principals: [p('bad')] } }, { source: { ipBlocks: ['192.0.2.0/24'] } }], to: [{ operation: { methods: ['DELETE'] } }] }] }),
  ap('allow-web', { rules: [{ from: [{ source: { principals: [p('web'), p('api')] } }], to: [{ operation: { methods: ['GET', 'HEAD'] } }] }] }),
  ap('allow-prefix', { rules: [{ from: [{ source: { principals: ['cluster.local/ns/ops/*'] } }] }] }),
  ap('allow-ns', { rules: [{ from: [{ source: { namespaces: ['other'] } }], to: [{ operation: { methods: ['PUT'] } }] }] }),
  ap('allow-not-principal', { rules: [{ from: [{ source: { notPrincipals: [p('sleep')], principals: [p('web'), p('sleep')] } }], to: [{ operation: { methods: ['PATCH'] } }] }] }),
  ap('allow-when', { rules: [{ when: [{ key: 'source.principal', values: [p('cron')] }, { key: 'request.headers[x-tenant]', values: ['a'] }] }] }),
  ap('allow-sleep-get', { rules: [{ from: [{ source: { principals: [p('sleep')] } }], to: [{ operation: { methods: ['GET'], paths: ['/ok*'] } }, { operation: { ports: ['9090'] } }] }] }),
  ap('audit-post', { action: 'AUDIT', rules: [{ to: [{ operation: { methods: ['POST'] } }] }] }),
  ap('audit-web', { action: 'AUDIT', rules: [{ from: [{ source: { principals: [p('web')] } }] }] }),
];

test('indexed evaluation decides every request of a grid exactly as evaluating every policy', () => {
  const principals = [undefined, ...['sleep', 'batch', 'bad', 'web', 'api', 'cron', 'nobody'].map((sa) => `spiffe://${p(sa)}`), `spiffe://${p('x', 'ops')}`, `spiffe://${p('y', 'other')}`];
  const methods = [undefined, 'GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'get'];
  let n = 0;
  for (const tcp of [false, true]) {
    const fast = compiled(POLICIES, tcp);
    const slow = unindexed(fast);
    for (const principal of principals) for (const method of methods) for (const ip of ['10.0.0.1', '192.0.2.7']) for (const port of [8080, 9090]) for (const path of ['/', '/ok/x']) {
      const h: Record<string, string | undefined> = { ':method': method, ':path': path, 'x-tenant': 'a' };
      const r: RbacRequest = { ...(principal ? { principal } : {}), sourceIp: ip, destinationPort: port, ...(tcp ? {} : { headers: (k: string) => h[k], path }) };
      assert.deepEqual(evaluateRbac(fast, r), evaluateRbac(slow, r), `${tcp ? 'tcp' : 'http'} ${principal ?? 'plaintext'} ${method ?? '-'} ${ip} ${port} ${path}`);
      n++;
    }
  }
  assert.equal(n, 2 * 10 * 9 * 2 * 2 * 2);
  // the grid saw every kind of decision
  const decisions = new Set<string>();
  const fast = compiled(POLICIES, false);
  for (const principal of principals) for (const method of methods) {
    const d = evaluateRbac(fast, { ...(principal ? { principal } : {}), sourceIp: '10.0.0.1', destinationPort: 8080, headers: (k) => (k === ':method' ? method : k === ':path' ? '/ok' : undefined), path: '/ok' });
    decisions.add(`${d.allowed}|${d.policy ?? ''}|${d.audited.length > 0}`);
  }
  assert.ok(decisions.size >= 6, [...decisions].join(' '));
});

test('a caller with its own ALLOW rule among 100 per-caller rules is checked against its own rule only', () => {
  const many = Array.from({ length: 100 }, (_, i) => ap(`allow-${String(i).padStart(3, '0')}`, { rules: [{ from: [{ source: { principals: [p(`client-${i}`)] } }], to: [{ operation: { methods: ['GET'] } }] }] }));
  const [allow] = compiled(many, false);
  assert.equal(allow!.policies.length, 100);
  assert.deepEqual(allow!.candidates(`spiffe://${p('client-42')}`, 'GET').map((i) => allow!.policies[i]!.name), ['ns[demo]-policy[allow-042]-rule[0]']);
  assert.deepEqual(allow!.candidates(`spiffe://${p('client-42')}`, 'POST'), [], 'no rule names POST');
  assert.deepEqual(allow!.candidates(`spiffe://${p('stranger')}`, 'GET'), []);
  assert.deepEqual(allow!.candidates('', ''), [], 'plaintext TCP');
  // namespaces (a regex on the principal), prefixes, notPrincipals and notMethods are indexed too
  const byNs = Array.from({ length: 100 }, (_, i) => ap(`ns-${String(i).padStart(3, '0')}`, { rules: [{ from: [{ source: { namespaces: [`team-${i}`] } }] }, { from: [{ source: { principals: [`cluster.local/ns/ops-${i}/*`] } }], to: [{ operation: { notMethods: ['DELETE'] } }] }] }));
  const [nsAllow] = compiled(byNs, false);
  const names = (principal: string, method: string) => nsAllow!.candidates(principal, method).map((i) => nsAllow!.policies[i]!.name);
  assert.deepEqual(names(`spiffe://${p('web', 'team-7')}`, 'GET'), ['ns[demo]-policy[ns-007]-rule[0]']);
  assert.deepEqual(names(`spiffe://${p('x', 'ops-7')}`, 'GET'), ['ns[demo]-policy[ns-007]-rule[1]']);
  assert.deepEqual(names(`spiffe://${p('x', 'ops-7')}`, 'DELETE'), []);
  assert.deepEqual(names(`spiffe://${p('x', 'elsewhere')}`, 'GET'), []);
});

test('matchers pilot does not generate but Envoy allows (inverted, case-insensitive, present, and/or/not trees) are never skipped wrongly', () => {
  const method = (m: Record<string, unknown>) => ({ header: { name: ':method', ...m } });
  const who = (name: string, extra: Record<string, unknown> = {}) => ({ authenticated: { principal_name: { exact: `spiffe://${p(name)}`, ...extra } } });
  const filter = (action: 'ALLOW' | 'DENY', policies: Record<string, { permissions: unknown[]; principals: unknown[] }>) => compileRbac({ rules: { action, policies } } as unknown as RbacFilter);
  const fast = [
    filter('DENY', {
      'inverted-method': { permissions: [method({ string_match: { exact: 'GET' }, invert_match: true })], principals: [who('a')] },
      'any-case-method': { permissions: [method({ string_match: { exact: 'delete', ignore_case: true } })], principals: [{ any: true }] },
      'method-present': { permissions: [method({ present_match: true })], principals: [who('b')] },
      'and-of-two': { permissions: [{ and_rules: { rules: [method({ string_match: { exact: 'PUT' } }), { any: true }] } }], principals: [{ and_ids: { ids: [who('c'), who('c')] } }] },
    }),
    filter('ALLOW', {
      'a-or-of-not': { permissions: [{ or_rules: { rules: [{ not_rule: method({ string_match: { exact: 'GET' } }) }, method({ string_match: { exact: 'GET' } })] } }], principals: [{ or_ids: { ids: [{ not_id: who('c') }, who('b')] } }] },
      'not-principal': { permissions: [{ any: true }], principals: [{ not_id: who('a') }] },
      'any-case-principal': { permissions: [{ not_rule: method({ string_match: { exact: 'PATCH' } }) }], principals: [who('A', { ignore_case: true })] },
      'suffix-or-regex': { permissions: [{ or_rules: { rules: [method({ string_match: { exact: 'PUT' } }), method({ string_match: { prefix: 'DEL' } })] } }], principals: [{ or_ids: { ids: [{ authenticated: { principal_name: { suffix: '/sa/b' } } }, { authenticated: { principal_name: { safe_regex: { regex: '.*/sa/[cd]' } } } }] } }] },
      'contains-not-prefix': { permissions: [{ any: true }], principals: [{ and_ids: { ids: [{ authenticated: { principal_name: { contains: '/ns/demo/' } } }, { not_id: { authenticated: { principal_name: { prefix: 'spiffe://cluster.local/ns/demo/sa/a' } } } }] } }] },
      'any-authenticated': { permissions: [method({ string_match: { exact: 'OPTIONS' } })], principals: [{ authenticated: {} }] },
    }),
  ];
  const slow = unindexed(fast);
  for (const principal of [undefined, ...['a', 'ab', 'b', 'c', 'd', 'e'].map((sa) => `spiffe://${p(sa)}`), `spiffe://${p('b', 'other')}`]) for (const m of [undefined, 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'DELX', 'delete', 'OPTIONS']) {
    const r: RbacRequest = { ...(principal ? { principal } : {}), sourceIp: '10.0.0.1', destinationPort: 8080, headers: (k) => (k === ':method' ? m : undefined), path: '/' };
    assert.deepEqual(evaluateRbac(fast, r), evaluateRbac(slow, r), `${principal ?? 'plaintext'} ${m ?? '-'}`);
  }
});
