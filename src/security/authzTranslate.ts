// Istio AuthorizationPolicy → Envoy RBAC filter configs, as istiod generates them (pure). One RBAC policy per
// (AuthorizationPolicy, rule), named `ns[<ns>]-policy[<name>]-rule[<i>]`. Inside a rule: `from` sources are ORed,
// the fields of one source ANDed, the values of one field ORed; the same for `to` operations; `when` conditions are
// ANDed with both. `not…` fields are NOT(OR(values)). Istio's string forms: exact, "prefix*", "*suffix", "*".
//
// For TCP (the network RBAC filter: CONNECT tunnels) HTTP-only fields cannot be evaluated. As Istio: an ALLOW or
// AUDIT rule that uses one is dropped (it allows nothing), a DENY rule drops those fields (it denies more).
import type { AuthorizationPolicy, Condition, Operation, Source } from './types.ts';
import { rbacPolicyName, type CidrRange, type Permission, type Principal, type RbacFilter, type RbacPolicy, type StringMatcher } from './rbacTypes.ts';

export interface WorkloadRbac {
  /** in filter order: LOG (AUDIT), DENY, ALLOW — each present only when a policy of that action applies */
  http: RbacFilter[];
  tcp: RbacFilter[];
}

const SPIFFE = 'spiffe://';

/** Istio's "exact / prefix* / *suffix / *" value → StringMatcher (`*` = present: any non-empty value). */
export function stringMatch(v: string, opts: { prefix?: string; ignoreCase?: boolean } = {}): StringMatcher {
  const pre = opts.prefix ?? '';
  const ic = opts.ignoreCase ? { ignore_case: true } : {};
  if (v === '*') return { safe_regex: { regex: '.+' }, ...ic };
  if (v.startsWith('*')) return { suffix: v.slice(1), ...ic };
  if (v.endsWith('*')) return { prefix: pre + v.slice(0, -1), ...ic };
  return { exact: pre + v, ...ic };
}

const reEscape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A namespace value → a regex on the SPIFFE principal (Istio: ".*" + "/ns/<ns>/" + ".*"). */
function namespaceMatch(v: string): StringMatcher {
  const ns = v === '*' ? '[^/]+' : v.startsWith('*') ? `[^/]*${reEscape(v.slice(1))}` : v.endsWith('*') ? `${reEscape(v.slice(0, -1))}[^/]*` : reEscape(v);
  return { safe_regex: { regex: `.*/ns/${ns}/.*` } };
}

function cidr(s: string): CidrRange {
  const [ip, bits] = s.split('/');
  const len = bits !== undefined ? Number(bits) : ip!.includes(':') ? 128 : 32;
  return { address_prefix: ip!, prefix_len: { value: len } };
}

const orP = (rules: Permission[]): Permission => (rules.length === 1 ? rules[0]! : { or_rules: { rules } });
const andP = (rules: Permission[]): Permission => (rules.length === 0 ? { any: true } : rules.length === 1 ? rules[0]! : { and_rules: { rules } });
const orI = (ids: Principal[]): Principal => (ids.length === 1 ? ids[0]! : { or_ids: { ids } });
const andI = (ids: Principal[]): Principal => (ids.length === 0 ? { any: true } : ids.length === 1 ? ids[0]! : { and_ids: { ids } });

const principalIds = (vs: string[]): Principal => orI(vs.map((v) => ({ authenticated: { principal_name: stringMatch(v, { prefix: v === '*' ? '' : SPIFFE }) } })));
const namespaceIds = (vs: string[]): Principal => orI(vs.map((v) => ({ authenticated: { principal_name: namespaceMatch(v) } })));
const ipIds = (vs: string[], remote: boolean): Principal => orI(vs.map((v) => (remote ? { remote_ip: cidr(v) } : { direct_remote_ip: cidr(v) })));
const headerPerm = (name: string, vs: string[], ignoreCase = false): Permission =>
  orP(vs.map((v) => ({ header: v === '*' ? { name, present_match: true } : { name, string_match: stringMatch(v, { ignoreCase }) } })));
const hostPerm = (vs: string[]): Permission =>
  // Host may carry a port (":authority" = "echo:8080"): an exact host also matches "<host>:<port>"
  orP(vs.flatMap((v): Permission[] => (v === '*' || v.startsWith('*') || v.endsWith('*') ? [headerPerm(':authority', [v], true)] : [headerPerm(':authority', [v], true), { header: { name: ':authority', string_match: { prefix: `${v}:`, ignore_case: true } } }])));
const pathPerm = (vs: string[]): Permission => orP(vs.map((v) => (v === '*' ? { url_path: { path: { prefix: '/' } } } : { url_path: { path: stringMatch(v) } })));
const portPerm = (vs: string[]): Permission => orP(vs.map((v) => ({ destination_port: Number(v) })));
const notP = (p: Permission): Permission => ({ not_rule: p });
const notI = (p: Principal): Principal => ({ not_id: p });

function sourcePrincipal(s: Source): Principal {
  const ids: Principal[] = [];
  if (s.principals) ids.push(principalIds(s.principals));
  if (s.notPrincipals) ids.push(notI(principalIds(s.notPrincipals)));
  if (s.namespaces) ids.push(namespaceIds(s.namespaces));
  if (s.notNamespaces) ids.push(notI(namespaceIds(s.notNamespaces)));
  if (s.ipBlocks) ids.push(ipIds(s.ipBlocks, false));
  if (s.notIpBlocks) ids.push(notI(ipIds(s.notIpBlocks, false)));
  if (s.remoteIpBlocks) ids.push(ipIds(s.remoteIpBlocks, true));
  if (s.notRemoteIpBlocks) ids.push(notI(ipIds(s.notRemoteIpBlocks, true)));
  return andI(ids);
}

const HTTP_OPERATION_FIELDS = ['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths'] as const;

function operationPermission(o: Operation, tcp: boolean): Permission {
  const rules: Permission[] = [];
  if (!tcp) {
    if (o.hosts) rules.push(hostPerm(o.hosts));
    if (o.notHosts) rules.push(notP(hostPerm(o.notHosts)));
    if (o.methods) rules.push(headerPerm(':method', o.methods));
    if (o.notMethods) rules.push(notP(headerPerm(':method', o.notMethods)));
    if (o.paths) rules.push(pathPerm(o.paths));
    if (o.notPaths) rules.push(notP(pathPerm(o.notPaths)));
  }
  if (o.ports) rules.push(portPerm(o.ports));
  if (o.notPorts) rules.push(notP(portPerm(o.notPorts)));
  return andP(rules);
}

const HEADER_KEY = /^request\.headers\[([^\]]+)\]$/;

/** A `when` condition → a permission or a principal (whichever Envoy evaluates it as); undefined = HTTP-only on TCP. */
function condition(c: Condition, tcp: boolean): { perm?: Permission; id?: Principal } | undefined {
  const both = <T>(f: (vs: string[]) => T, not: (x: T) => T): T[] => [...(c.values ? [f(c.values)] : []), ...(c.notValues ? [not(f(c.notValues))] : [])];
  const header = HEADER_KEY.exec(c.key);
  if (header) return tcp ? undefined : { perm: andP(both((vs) => headerPerm(header[1]!.toLowerCase(), vs), notP)) };
  switch (c.key) {
    case 'source.principal': return { id: andI(both(principalIds, notI)) };
    case 'source.namespace': return { id: andI(both(namespaceIds, notI)) };
    case 'source.ip': return { id: andI(both((vs) => ipIds(vs, false), notI)) };
    case 'remote.ip': return { id: andI(both((vs) => ipIds(vs, true), notI)) };
    case 'destination.port': return { perm: andP(both(portPerm, notP)) };
    case 'destination.ip': return { perm: andP(both((vs) => orP(vs.map((v) => ({ destination_ip: cidr(v) }))), notP)) };
    default: throw new Error(`when key "${c.key}" is not supported`); // validation refuses these first
  }
}

function usesHttpOnly(rule: NonNullable<AuthorizationPolicy['spec']['rules']>[number]): boolean {
  return (rule.to ?? []).some((t) => HTTP_OPERATION_FIELDS.some((f) => t.operation[f] !== undefined)) || (rule.when ?? []).some((c) => HEADER_KEY.test(c.key));
}

/** The RBAC policies of one AuthorizationPolicy (one per rule), for HTTP or for TCP. */
export function policyRbac(p: AuthorizationPolicy, tcp: boolean): Record<string, RbacPolicy> {
  const out: Record<string, RbacPolicy> = {};
  const action = p.spec.action ?? 'ALLOW';
  (p.spec.rules ?? []).forEach((rule, i) => {
    if (tcp && action !== 'DENY' && usesHttpOnly(rule)) return; // as Istio: never allows on TCP
    const perms: Permission[] = [];
    const ids: Principal[] = [];
    if (rule.to?.length) perms.push(orP(rule.to.map((t) => operationPermission(t.operation, tcp))));
    if (rule.from?.length) ids.push(orI(rule.from.map((f) => sourcePrincipal(f.source))));
    for (const c of rule.when ?? []) {
      const x = condition(c, tcp);
      if (x?.perm) perms.push(x.perm);
      if (x?.id) ids.push(x.id);
    }
    out[rbacPolicyName(p.metadata.namespace, p.metadata.name, i)] = { permissions: [andP(perms)], principals: [andI(ids)] };
  });
  return out;
}

const ACTIONS = [['AUDIT', 'LOG'], ['DENY', 'DENY'], ['ALLOW', 'ALLOW']] as const;

/**
 * The RBAC filters for the policies that apply to one workload (see appliesTo), in Envoy filter order. A filter is
 * present when at least one policy of its action applies — an ALLOW policy without rules yields an ALLOW filter
 * without policies, which denies everything (Istio's "allow nothing").
 */
export function workloadRbac(policies: readonly AuthorizationPolicy[]): WorkloadRbac {
  const sorted = [...policies].sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  const http: RbacFilter[] = [];
  const tcp: RbacFilter[] = [];
  for (const [istio, envoy] of ACTIONS) {
    const of = sorted.filter((p) => (p.spec.action ?? 'ALLOW') === istio);
    if (!of.length) continue;
    http.push({ rules: { action: envoy, policies: Object.assign({}, ...of.map((p) => policyRbac(p, false))) as Record<string, RbacPolicy> } });
    tcp.push({ rules: { action: envoy, policies: Object.assign({}, ...of.map((p) => policyRbac(p, true))) as Record<string, RbacPolicy> }, stat_prefix: 'tcp.' });
  }
  return { http, tcp };
}
