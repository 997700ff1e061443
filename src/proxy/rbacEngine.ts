// Envoy's RBAC filter semantics over meshfed's request/connection attributes (sidecar side, pure). Configs are
// compiled once per xDS update into closures (regexes built once), so a request pays only the matching — and only
// of the policies that can match its principal and method (rbacIndex.ts), not of every policy in the config.
//   ALLOW filter: allowed iff some policy matches (no policies → nothing is allowed).
//   DENY filter: denied iff some policy matches.  LOG filter: never decides; matches are reported as audited.
// A policy matches when one of its permissions AND one of its principals match. Works on objects as pilot builds
// them and as protobufjs decodes them (oneof discriminators, defaults filled in).
import { BlockList, isIPv6 } from 'node:net';
import type { CidrRange, HeaderMatcher, Permission, Principal, RbacFilter, StringMatcher } from '../security/rbacTypes.ts';
import { candidateIndex, headerSpecifier, permissionRule, principalIdentifier, stringPattern, type CandidateIndex } from './rbacIndex.ts';

export interface RbacRequest {
  /** SPIFFE URI of the verified client certificate; undefined for plaintext */
  principal?: string;
  /** the downstream peer address */
  sourceIp: string;
  destinationIp?: string;
  /** the workload port the request is for */
  destinationPort: number;
  /** lower-case header names plus :method, :path, :authority; absent for TCP */
  headers?: (name: string) => string | undefined;
  /** path without the query (url_path) */
  path?: string;
}

type Pred = (r: RbacRequest) => boolean;

export interface CompiledRbac {
  action: 'ALLOW' | 'DENY' | 'LOG';
  /** policies in name order */
  policies: { name: string; match: Pred }[];
  /** positions in `policies` that can match a principal and method; the others are skipped */
  candidates: CandidateIndex;
}

export interface RbacDecision {
  allowed: boolean;
  /** the policy that denied (DENY) or allowed (ALLOW); '' = denied because no ALLOW policy matched */
  policy?: string;
  /** LOG (AUDIT) policies that matched */
  audited: string[];
  /** whether any filter applied at all (no filters = no authorization configured) */
  enforced: boolean;
}

const TRUE: Pred = () => true;
const FALSE: Pred = () => false;

/** AND / OR of predicates as loops (no closure allocated per request); one operand is returned as it is. */
function all(ps: Pred[]): Pred {
  if (ps.length === 1) return ps[0]!;
  return (r) => { for (const p of ps) if (!p(r)) return false; return true; };
}
function any(ps: Pred[]): Pred {
  if (ps.length === 1) return ps[0]!;
  return (r) => { for (const p of ps) if (p(r)) return true; return false; };
}

export function compileString(m: StringMatcher | undefined): (s: string) => boolean {
  if (!m) return () => false;
  const ic = m.ignore_case === true;
  const norm = ic ? (s: string) => s.toLowerCase() : (s: string) => s;
  switch (stringPattern(m)) {
    case 'exact': { const v = norm(m.exact!); return (s) => norm(s) === v; }
    case 'prefix': { const v = norm(m.prefix!); return (s) => norm(s).startsWith(v); }
    case 'suffix': { const v = norm(m.suffix!); return (s) => norm(s).endsWith(v); }
    case 'contains': { const v = norm(m.contains!); return (s) => norm(s).includes(v); }
    case 'safe_regex': { const re = new RegExp(`^(?:${m.safe_regex!.regex})$`, ic ? 'i' : ''); return (s) => re.test(s); }
    default: return () => false;
  }
}

function compileHeader(h: HeaderMatcher): Pred {
  const name = h.name.toLowerCase();
  const spec = headerSpecifier(h);
  const str = spec === 'string_match' ? compileString(h.string_match) : undefined;
  const inv = h.invert_match === true;
  return (r) => {
    const v = r.headers?.(name);
    if (v === undefined) return false; // absent: no match (even inverted), as Envoy; TCP has no headers
    const ok = str ? str(v) : true;
    return inv ? !ok : ok;
  };
}

/** a.b.c.d (or ::ffff:a.b.c.d) → its 32-bit number; undefined for anything else (IPv6). */
export function ipv4Number(ip: string): number | undefined {
  const s = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  let n = 0;
  let part = -1;
  let parts = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46; // a final '.'
    if (c === 46) {
      if (part < 0 || part > 255 || ++parts > 4) return undefined;
      n = n * 256 + part;
      part = -1;
    } else if (c >= 48 && c <= 57) {
      part = part < 0 ? c - 48 : part * 10 + c - 48;
    } else return undefined;
  }
  return parts === 4 ? n : undefined;
}

/**
 * IPv4 ranges compare numbers (node's BlockList crosses into C++ per check: ~3 µs, which 50 ipBlocks rules made the
 * largest cost of a request); the last address seen is remembered, as requests on one connection share it.
 */
function compileCidr(c: CidrRange): (ip: string | undefined) => boolean {
  if (isIPv6(c.address_prefix)) {
    const bl = new BlockList();
    bl.addSubnet(c.address_prefix, c.prefix_len?.value ?? 128, 'ipv6');
    return (ip) => ip !== undefined && isIPv6(ip) && bl.check(ip, 'ipv6');
  }
  const len = c.prefix_len?.value ?? 32;
  const mask = len <= 0 ? 0 : len >= 32 ? 0xffffffff : (0xffffffff << (32 - len)) >>> 0;
  const net = ((ipv4Number(c.address_prefix) ?? 0) & mask) >>> 0;
  let lastIp: string | undefined;
  let lastHit = false;
  return (ip) => {
    if (!ip) return false;
    if (ip === lastIp) return lastHit;
    const n = ipv4Number(ip);
    lastIp = ip;
    lastHit = n !== undefined && ((n & mask) >>> 0) === net;
    return lastHit;
  };
}


export function compilePermission(p: Permission): Pred {
  switch (permissionRule(p)) {
    case 'any': return TRUE;
    case 'and_rules': return all((p.and_rules?.rules ?? []).map(compilePermission));
    case 'or_rules': return any((p.or_rules?.rules ?? []).map(compilePermission));
    case 'not_rule': { const f = compilePermission(p.not_rule!); return (r) => !f(r); }
    case 'header': return compileHeader(p.header!);
    case 'url_path': { const f = compileString(p.url_path?.path); return (r) => r.path !== undefined && f(r.path); }
    case 'destination_port': { const port = Number(p.destination_port); return (r) => r.destinationPort === port; }
    case 'destination_ip': { const f = compileCidr(p.destination_ip!); return (r) => f(r.destinationIp); }
    default: return FALSE; // a rule this sidecar does not know never matches (pilot sends none)
  }
}


export function compilePrincipal(p: Principal): Pred {
  switch (principalIdentifier(p)) {
    case 'any': return TRUE;
    case 'and_ids': return all((p.and_ids?.ids ?? []).map(compilePrincipal));
    case 'or_ids': return any((p.or_ids?.ids ?? []).map(compilePrincipal));
    case 'not_id': { const f = compilePrincipal(p.not_id!); return (r) => !f(r); }
    case 'authenticated': {
      const name = p.authenticated?.principal_name;
      // no principal_name: any authenticated peer
      const f = name && stringPattern(name) ? compileString(name) : () => true;
      return (r) => r.principal !== undefined && f(r.principal);
    }
    case 'direct_remote_ip': { const f = compileCidr(p.direct_remote_ip!); return (r) => f(r.sourceIp); }
    case 'remote_ip': { const f = compileCidr(p.remote_ip!); return (r) => f(r.sourceIp); }
    case 'header': return compileHeader(p.header!);
    default: return FALSE;
  }
}

export function compileRbac(f: RbacFilter): CompiledRbac {
  const action = (f.rules?.action ?? 'ALLOW') as CompiledRbac['action'];
  const names = Object.keys(f.rules?.policies ?? {}).sort();
  const configs = names.map((name) => ({ permissions: f.rules.policies[name]!.permissions ?? [], principals: f.rules.policies[name]!.principals ?? [] }));
  return {
    action,
    policies: names.map((name, i) => {
      const perms = configs[i]!.permissions.map(compilePermission);
      const ids = configs[i]!.principals.map(compilePrincipal);
      const [anyPerm, anyId] = [any(perms), any(ids)];
      return { name, match: (r: RbacRequest) => anyPerm(r) && anyId(r) };
    }),
    candidates: candidateIndex(configs),
  };
}

/** Runs the filters in order, as Envoy's filter chain does: the first denial stops the request. */
export function evaluateRbac(filters: readonly CompiledRbac[], r: RbacRequest): RbacDecision {
  const audited: string[] = [];
  let allowedBy: string | undefined;
  const principal = r.principal ?? '';
  const method = r.headers?.(':method') ?? '';
  for (const f of filters) {
    const cands = f.candidates(principal, method);
    if (f.action === 'LOG') {
      for (const i of cands) if (f.policies[i]!.match(r)) audited.push(f.policies[i]!.name);
      continue;
    }
    let hit: string | undefined;
    for (const i of cands) if (f.policies[i]!.match(r)) { hit = f.policies[i]!.name; break; }
    if (f.action === 'DENY' && hit !== undefined) return { allowed: false, policy: hit, audited, enforced: true };
    if (f.action === 'ALLOW' && hit === undefined) return { allowed: false, policy: '', audited, enforced: true };
    if (f.action === 'ALLOW') allowedBy = hit;
  }
  return { allowed: true, ...(allowedBy !== undefined ? { policy: allowedBy } : {}), audited, enforced: filters.length > 0 };
}
