/** Pure validation of VirtualService / DestinationRule (the role Galley played) and last-good reconciliation. */
import { parseDuration } from './duration.ts';
import type { DestinationRule, HttpRoute, PolicyObject, Rejection, StringMatch, TrafficPolicy, VirtualService } from './types.ts';
import { policyKey } from './types.ts';

/** RE2 (Envoy safe_regex) refuses lookaround and backreferences; everything else must also compile. */
export function checkRe2(pattern: string): string | undefined {
  if (/\(\?<?[=!]/.test(pattern)) return `regex "${pattern}" uses lookaround, which RE2 does not support`;
  if (/\\[1-9]|\\k</.test(pattern)) return `regex "${pattern}" uses a backreference, which RE2 does not support`;
  if (/[*+?}]\+/.test(pattern)) return `regex "${pattern}" uses a possessive quantifier, which RE2 does not support`;
  try {
    new RegExp(pattern, 'u');
  } catch (err) {
    return `regex "${pattern}" does not compile: ${(err as Error).message}`;
  }
  return undefined;
}

const HOST_RE = /^(\*|(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$/;

function checkHost(host: unknown, path: string, errs: string[]): void {
  if (typeof host !== 'string' || host.length === 0 || host.length > 253 || !HOST_RE.test(host)) {
    errs.push(`${path}: "${String(host)}" is not a well-formed host name`);
  }
}

function checkDuration(v: unknown, path: string, errs: string[]): void {
  if (v === undefined) return;
  if (typeof v !== 'string') {
    errs.push(`${path}: must be a duration string like "1s"`);
    return;
  }
  const d = parseDuration(v);
  if ('error' in d) errs.push(`${path}: ${d.error}`);
}

function checkPercent(v: unknown, path: string, errs: string[]): void {
  if (v === undefined) return;
  const value = (v as { value?: unknown }).value;
  if (typeof value !== 'number' || !(value >= 0 && value <= 100)) errs.push(`${path}.value: must be a number in 0..100`);
}

function checkStringMatch(m: StringMatch | undefined, path: string, errs: string[]): void {
  if (m === undefined) return;
  const kinds = (['exact', 'prefix', 'regex'] as const).filter((k) => m[k] !== undefined);
  if (kinds.length !== 1) {
    errs.push(`${path}: exactly one of exact, prefix, regex is required`);
    return;
  }
  if (m.regex !== undefined) {
    const e = checkRe2(m.regex);
    if (e) errs.push(`${path}.regex: ${e}`);
  }
}

function checkNonNegInt(v: unknown, path: string, errs: string[], min = 0): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) errs.push(`${path}: must be an integer >= ${min}`);
}

/** Subset names declared per host, from the DestinationRules in force. */
export function subsetsByHost(rules: readonly DestinationRule[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const r of rules) {
    const set = out.get(r.spec.host) ?? new Set<string>();
    for (const s of r.spec.subsets ?? []) set.add(s.name);
    out.set(r.spec.host, set);
  }
  return out;
}

function validateRoute(r: HttpRoute, path: string, subsets: Map<string, Set<string>>, knownHosts: ReadonlySet<string> | undefined, errs: string[]): void {
  (r.match ?? []).forEach((m, j) => {
    checkStringMatch(m.uri, `${path}.match[${j}].uri`, errs);
    checkStringMatch(m.method, `${path}.match[${j}].method`, errs);
    for (const [h, hm] of Object.entries(m.headers ?? {})) checkStringMatch(hm, `${path}.match[${j}].headers.${h}`, errs);
  });
  if (!Array.isArray(r.route) || r.route.length === 0) {
    errs.push(`${path}.route: at least one destination is required`);
    return;
  }
  let sum = 0;
  r.route.forEach((d, k) => {
    const p = `${path}.route[${k}]`;
    const host = d.destination?.host;
    checkHost(host, `${p}.destination.host`, errs);
    if (typeof host === 'string' && knownHosts && !knownHosts.has(host)) errs.push(`${p}.destination.host: unknown host "${host}"`);
    if (d.destination?.subset !== undefined) {
      const known = subsets.get(host ?? '');
      if (!known || !known.has(d.destination.subset)) {
        errs.push(`${p}.destination.subset: subset "${d.destination.subset}" is not defined by any DestinationRule for host "${host}"`);
      }
    }
    const port = d.destination?.port?.number;
    if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) errs.push(`${p}.destination.port.number: must be 1..65535`);
    if (d.weight !== undefined && (typeof d.weight !== 'number' || !Number.isInteger(d.weight) || d.weight < 0 || d.weight > 100)) {
      errs.push(`${p}.weight: must be an integer in 0..100`);
    }
    sum += d.weight ?? (r.route.length === 1 ? 100 : 0);
  });
  if (r.route.length > 1 && sum !== 100) errs.push(`${path}.route: weights sum to ${sum}, they must sum to 100`);
  if (r.retries) {
    checkNonNegInt(r.retries.attempts, `${path}.retries.attempts`, errs);
    checkDuration(r.retries.perTryTimeout, `${path}.retries.perTryTimeout`, errs);
  }
  checkDuration(r.timeout, `${path}.timeout`, errs);
  if (r.fault?.delay) {
    if (r.fault.delay.fixedDelay === undefined) errs.push(`${path}.fault.delay.fixedDelay: is required`);
    checkDuration(r.fault.delay.fixedDelay, `${path}.fault.delay.fixedDelay`, errs);
    checkPercent(r.fault.delay.percentage, `${path}.fault.delay.percentage`, errs);
  }
  if (r.fault?.abort) {
    const s = r.fault.abort.httpStatus;
    if (!(Number.isInteger(s) && s >= 200 && s <= 599)) errs.push(`${path}.fault.abort.httpStatus: ${String(s)} is not a valid HTTP status (200..599)`);
    checkPercent(r.fault.abort.percentage, `${path}.fault.abort.percentage`, errs);
  }
}

export function validateVirtualService(vs: VirtualService, subsets: Map<string, Set<string>>, knownHosts?: ReadonlySet<string>): string[] {
  const errs: string[] = [];
  if (!Array.isArray(vs.spec?.hosts) || vs.spec.hosts.length === 0) errs.push('spec.hosts: at least one host is required');
  (vs.spec?.hosts ?? []).forEach((h, i) => checkHost(h, `spec.hosts[${i}]`, errs));
  (vs.spec?.http ?? []).forEach((r, i) => validateRoute(r, `spec.http[${i}]`, subsets, knownHosts, errs));
  return errs;
}

function validateTrafficPolicy(tp: TrafficPolicy | undefined, path: string, errs: string[]): void {
  if (!tp) return;
  const lb = tp.loadBalancer;
  if (lb) {
    if (lb.simple !== undefined && !['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM'].includes(lb.simple)) {
      errs.push(`${path}.loadBalancer.simple: "${lb.simple}" is not one of ROUND_ROBIN, LEAST_REQUEST, RANDOM`);
    }
    if (lb.simple !== undefined && lb.consistentHash !== undefined) errs.push(`${path}.loadBalancer: set either simple or consistentHash, not both`);
    if (lb.consistentHash !== undefined && !lb.consistentHash.httpHeaderName) errs.push(`${path}.loadBalancer.consistentHash.httpHeaderName: a header name is required`);
    lb.localityLbSetting?.distribute?.forEach((d, i) => {
      const sum = Object.values(d.to ?? {}).reduce((a, b) => a + b, 0);
      if (sum !== 100) errs.push(`${path}.loadBalancer.localityLbSetting.distribute[${i}].to: weights sum to ${sum}, they must sum to 100`);
    });
    if (lb.localityLbSetting?.failover?.length && lb.localityLbSetting.distribute?.length) {
      errs.push(`${path}.loadBalancer.localityLbSetting: failover and distribute cannot both be set`);
    }
  }
  const cp = tp.connectionPool;
  checkNonNegInt(cp?.tcp?.maxConnections, `${path}.connectionPool.tcp.maxConnections`, errs, 1);
  checkNonNegInt(cp?.http?.http1MaxPendingRequests, `${path}.connectionPool.http.http1MaxPendingRequests`, errs, 1);
  checkNonNegInt(cp?.http?.maxRequestsPerConnection, `${path}.connectionPool.http.maxRequestsPerConnection`, errs, 0);
  const od = tp.outlierDetection;
  if (od) {
    checkNonNegInt(od.consecutive5xxErrors, `${path}.outlierDetection.consecutive5xxErrors`, errs);
    checkNonNegInt(od.consecutiveGatewayErrors, `${path}.outlierDetection.consecutiveGatewayErrors`, errs);
    checkDuration(od.interval, `${path}.outlierDetection.interval`, errs);
    checkDuration(od.baseEjectionTime, `${path}.outlierDetection.baseEjectionTime`, errs);
    if (od.maxEjectionPercent !== undefined && !(od.maxEjectionPercent >= 0 && od.maxEjectionPercent <= 100)) {
      errs.push(`${path}.outlierDetection.maxEjectionPercent: must be in 0..100`);
    }
  }
}

export function validateDestinationRule(dr: DestinationRule): string[] {
  const errs: string[] = [];
  checkHost(dr.spec?.host, 'spec.host', errs);
  validateTrafficPolicy(dr.spec?.trafficPolicy, 'spec.trafficPolicy', errs);
  const seen = new Set<string>();
  (dr.spec?.subsets ?? []).forEach((s, i) => {
    if (!s.name) errs.push(`spec.subsets[${i}].name: is required`);
    else if (seen.has(s.name)) errs.push(`spec.subsets[${i}].name: duplicate subset "${s.name}"`);
    seen.add(s.name);
    if (!s.labels || Object.keys(s.labels).length === 0) errs.push(`spec.subsets[${i}].labels: at least one label is required`);
    validateTrafficPolicy(s.trafficPolicy, `spec.subsets[${i}].trafficPolicy`, errs);
  });
  return errs;
}

export interface PolicySet {
  virtualServices: VirtualService[];
  destinationRules: DestinationRule[];
}

export interface ValidationResult {
  accepted: PolicySet;
  rejected: Rejection[];
}

function rejection(o: PolicyObject, reasons: string[]): Rejection {
  return { kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name, generation: o.metadata.generation, reasons };
}

/** Validate a whole set: DestinationRules first (their subsets are what VirtualServices may name). */
export function validatePolicy(input: PolicySet, knownHosts?: ReadonlySet<string>): ValidationResult {
  const rejected: Rejection[] = [];
  const destinationRules: DestinationRule[] = [];
  for (const dr of input.destinationRules) {
    const errs = validateDestinationRule(dr);
    if (errs.length) rejected.push(rejection(dr, errs));
    else destinationRules.push(dr);
  }
  const subsets = subsetsByHost(destinationRules);
  const virtualServices: VirtualService[] = [];
  for (const vs of input.virtualServices) {
    const errs = validateVirtualService(vs, subsets, knownHosts);
    if (errs.length) rejected.push(rejection(vs, errs));
    else virtualServices.push(vs);
  }
  return { accepted: { virtualServices, destinationRules }, rejected };
}

/**
 * Last good configuration keeps being served: an object whose new generation is invalid keeps its previous
 * valid generation (if any); objects deleted from `incoming` are gone. Other objects are unaffected.
 */
export function reconcile(previousGood: PolicySet, incoming: PolicySet, knownHosts?: ReadonlySet<string>): { good: PolicySet; rejected: Rejection[] } {
  const first = validatePolicy(incoming, knownHosts);
  const prev = new Map<string, PolicyObject>();
  for (const o of [...previousGood.virtualServices, ...previousGood.destinationRules]) prev.set(policyKey(o), o);
  const rejectedKeys = new Set(first.rejected.map((r) => `${r.kind}/${r.namespace}/${r.name}`));
  const merged: PolicySet = {
    destinationRules: incoming.destinationRules.map((o) => (rejectedKeys.has(policyKey(o)) ? (prev.get(policyKey(o)) as DestinationRule | undefined) : o)).filter((o): o is DestinationRule => o !== undefined),
    virtualServices: incoming.virtualServices.map((o) => (rejectedKeys.has(policyKey(o)) ? (prev.get(policyKey(o)) as VirtualService | undefined) : o)).filter((o): o is VirtualService => o !== undefined),
  };
  // Re-validate the merged set: a kept old VirtualService may name a subset only the kept old rule defines.
  const second = validatePolicy(merged, knownHosts);
  return { good: second.accepted, rejected: [...first.rejected, ...second.rejected] };
}
