// Pure validation of AuthorizationPolicy / PeerAuthentication (what istiod's webhook refuses, plus what meshfed does
// not implement, so a policy is never half-enforced in silence) and last-good reconciliation: an object whose new
// generation is invalid keeps its last good version in force; the rest of the set is unaffected.
import { isIP } from 'node:net';
import type { AuthorizationPolicy, Condition, Operation, PeerAuthentication, Rule, SecuritySet, Source } from './types.ts';
import { keepLastGood } from './lastGood.ts';

export interface SecurityRejection {
  kind: 'AuthorizationPolicy' | 'PeerAuthentication' | 'ServiceEntry' | 'Sidecar';
  namespace: string;
  name: string;
  generation: number;
  /** Each reason is "<field path>: <what is wrong>". */
  reasons: string[];
}

const SOURCE_FIELDS = ['principals', 'notPrincipals', 'namespaces', 'notNamespaces', 'ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks'] as const;
const UNSUPPORTED_SOURCE = ['requestPrincipals', 'notRequestPrincipals'] as const;
const OPERATION_FIELDS = ['hosts', 'notHosts', 'ports', 'notPorts', 'methods', 'notMethods', 'paths', 'notPaths'] as const;
/** `when` keys meshfed evaluates (request.headers[…] is matched separately). */
export const WHEN_KEYS = ['source.principal', 'source.namespace', 'source.ip', 'remote.ip', 'destination.port', 'destination.ip'] as const;
const HEADER_KEY = /^request\.headers\[([^\]]+)\]$/;
const MODES = ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'];

function stringList(v: unknown, path: string, errs: string[]): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) { errs.push(`${path}: must be a list of strings`); return undefined; }
  if (v.length === 0) errs.push(`${path}: must not be empty when set (leave it out to match anything)`);
  return v as string[];
}

/** Istio's wildcard rule: `*` alone, or one `*` at the start or at the end. */
function checkWildcard(s: string, path: string, errs: string[]): void {
  if (s === '') { errs.push(`${path}: must not be empty`); return; }
  const inner = s === '*' ? '' : s.replace(/^\*/, '').replace(/\*$/, '');
  if (inner.includes('*') || (s.startsWith('*') && s.endsWith('*') && s !== '*')) errs.push(`${path}: "${s}" may use "*" only alone, as a prefix ("*foo") or as a suffix ("foo*")`);
}

export function checkCidr(s: string): string | undefined {
  const [ip, bits, extra] = s.split('/');
  if (extra !== undefined || !ip || !isIP(ip)) return `"${s}" is not an IP address or CIDR block`;
  if (bits === undefined) return undefined;
  const max = isIP(ip) === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return `"${s}": prefix length must be 0..${max}`;
  return undefined;
}

function checkPort(s: string, path: string, errs: string[]): void {
  if (!/^\d{1,5}$/.test(s) || Number(s) < 1 || Number(s) > 65535) errs.push(`${path}: "${s}" is not a port number (1..65535)`);
}

/**
 * A rule's source or operation: an object of string lists. A key not in `fields` or `alsoKnown` is unknown; each string
 * of a set field is checked by `item`; an object with none of its keys set is refused (it would match everything).
 */
function checkStringLists<F extends string>(obj: object, path: string, fields: readonly F[], alsoKnown: readonly string[], errs: string[], item: (f: F, s: string, at: string) => void): void {
  const o = obj as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !(fields as readonly string[]).includes(k) && !alsoKnown.includes(k));
  for (const k of unknown) errs.push(`${path}.${k}: unknown field`);
  let set = 0;
  for (const f of fields) {
    const list = stringList(o[f], `${path}.${f}`, errs);
    if (!list) continue;
    set++;
    list.forEach((s, i) => item(f, s, `${path}.${f}[${i}]`));
  }
  if (set === 0 && unknown.length === 0 && !alsoKnown.some((k) => o[k] !== undefined)) errs.push(`${path}: at least one field must be set`);
}

function checkSource(src: Source | undefined, path: string, errs: string[]): void {
  if (typeof src !== 'object' || src === null) { errs.push(`${path}: must be an object`); return; }
  for (const f of UNSUPPORTED_SOURCE) if (src[f] !== undefined) errs.push(`${path}.${f}: request principals (JWT) are not supported by meshfed; remove the field`);
  checkStringLists(src, path, SOURCE_FIELDS, UNSUPPORTED_SOURCE, errs, (f, s, at) => {
    if (f.toLowerCase().includes('ipblocks')) { const e = checkCidr(s); if (e) errs.push(`${at}: ${e}`); }
    else checkWildcard(s, at, errs);
  });
}

function checkOperation(op: Operation | undefined, path: string, errs: string[]): void {
  if (typeof op !== 'object' || op === null) { errs.push(`${path}: must be an object`); return; }
  checkStringLists(op, path, OPERATION_FIELDS, [], errs, (f, s, at) => {
    if (f === 'ports' || f === 'notPorts') checkPort(s, at, errs);
    else if (f === 'paths' || f === 'notPaths') { checkWildcard(s, at, errs); if (!s.startsWith('/') && !s.startsWith('*')) errs.push(`${at}: "${s}" must start with "/" (or "*" for a suffix match)`); }
    else if (f === 'methods' || f === 'notMethods') { if (!/^[A-Za-z]+$/.test(s)) errs.push(`${at}: "${s}" is not an HTTP method`); }
    else checkWildcard(s, at, errs);
  });
}

function checkCondition(c: Condition | undefined, path: string, errs: string[]): void {
  if (typeof c !== 'object' || c === null || typeof c.key !== 'string') { errs.push(`${path}.key: required`); return; }
  const header = HEADER_KEY.exec(c.key);
  if (!header && !(WHEN_KEYS as readonly string[]).includes(c.key)) {
    errs.push(`${path}.key: "${c.key}" is not supported (meshfed supports request.headers[<name>], ${WHEN_KEYS.join(', ')})`);
    return;
  }
  const values = stringList(c.values, `${path}.values`, errs);
  const notValues = stringList(c.notValues, `${path}.notValues`, errs);
  if (!values && !notValues) errs.push(`${path}: at least one of values or notValues must be set`);
  for (const [f, list] of [['values', values], ['notValues', notValues]] as const) {
    (list ?? []).forEach((s, i) => {
      const p = `${path}.${f}[${i}]`;
      if (c.key === 'destination.port') checkPort(s, p, errs);
      else if (c.key === 'source.ip' || c.key === 'remote.ip' || c.key === 'destination.ip') { const e = checkCidr(s); if (e) errs.push(`${p}: ${e}`); }
      else checkWildcard(s, p, errs);
    });
  }
}

function checkSelector(sel: unknown, errs: string[]): void {
  if (sel === undefined) return;
  const ml = (sel as { matchLabels?: unknown })?.matchLabels;
  if (typeof sel !== 'object' || sel === null || (ml !== undefined && (typeof ml !== 'object' || ml === null || Object.values(ml).some((v) => typeof v !== 'string')))) {
    errs.push('spec.selector.matchLabels: must be a map of label name to string value');
  }
}

export function validateAuthorizationPolicy(p: AuthorizationPolicy): string[] {
  const errs: string[] = [];
  const s = p.spec;
  checkSelector(s.selector, errs);
  if (s.action !== undefined && !['ALLOW', 'DENY', 'AUDIT'].includes(s.action)) {
    errs.push(`spec.action: "${String(s.action)}" is not supported (ALLOW, DENY or AUDIT${String(s.action) === 'CUSTOM' ? '; CUSTOM external authorization is not implemented' : ''})`);
  }
  if ((s as { provider?: unknown }).provider !== undefined) errs.push('spec.provider: CUSTOM providers are not supported');
  if ((s as { targetRef?: unknown }).targetRef !== undefined || (s as { targetRefs?: unknown }).targetRefs !== undefined) errs.push('spec.targetRef(s): not supported; use spec.selector');
  if (s.rules !== undefined && !Array.isArray(s.rules)) { errs.push('spec.rules: must be a list'); return errs; }
  (s.rules ?? []).forEach((r: Rule, i) => {
    const path = `spec.rules[${i}]`;
    if (typeof r !== 'object' || r === null) { errs.push(`${path}: must be an object`); return; }
    if (r.from !== undefined && !Array.isArray(r.from)) errs.push(`${path}.from: must be a list`);
    else (r.from ?? []).forEach((f, j) => checkSource(f?.source, `${path}.from[${j}].source`, errs));
    if (r.to !== undefined && !Array.isArray(r.to)) errs.push(`${path}.to: must be a list`);
    else (r.to ?? []).forEach((t, j) => checkOperation(t?.operation, `${path}.to[${j}].operation`, errs));
    if (r.when !== undefined && !Array.isArray(r.when)) errs.push(`${path}.when: must be a list`);
    else (r.when ?? []).forEach((c, j) => checkCondition(c, `${path}.when[${j}]`, errs));
  });
  return errs;
}

export function validatePeerAuthentication(p: PeerAuthentication): string[] {
  const errs: string[] = [];
  const s = p.spec;
  checkSelector(s.selector, errs);
  const mode = s.mtls?.mode;
  if (mode !== undefined && !MODES.includes(mode)) errs.push(`spec.mtls.mode: "${String(mode)}" must be one of ${MODES.join(', ')}`);
  if (s.portLevelMtls !== undefined) {
    if (typeof s.portLevelMtls !== 'object' || s.portLevelMtls === null) errs.push('spec.portLevelMtls: must be a map of port number to {mode}');
    else {
      if (!s.selector?.matchLabels || Object.keys(s.selector.matchLabels).length === 0) errs.push('spec.portLevelMtls: needs spec.selector.matchLabels (as in Istio, port-level settings apply to selected workloads only)');
      for (const [port, v] of Object.entries(s.portLevelMtls)) {
        checkPort(port, `spec.portLevelMtls[${port}]`, errs);
        const m = (v as { mode?: unknown } | null)?.mode;
        if (m === undefined || !MODES.includes(String(m))) errs.push(`spec.portLevelMtls[${port}].mode: "${String(m)}" must be one of ${MODES.join(', ')}`);
      }
    }
  }
  return errs;
}

/** Every object validated on its own; an invalid one keeps its previous good version (if any) in force. */
export function reconcileSecurity(previousGood: SecuritySet, incoming: SecuritySet): { good: SecuritySet; rejected: SecurityRejection[] } {
  const rejected: SecurityRejection[] = [];
  return {
    good: {
      authorizationPolicies: keepLastGood(previousGood.authorizationPolicies, incoming.authorizationPolicies, validateAuthorizationPolicy, rejected),
      peerAuthentications: keepLastGood(previousGood.peerAuthentications, incoming.peerAuthentications, validatePeerAuthentication, rejected),
    },
    rejected,
  };
}
