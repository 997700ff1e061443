// Runs the inbound RBAC filters for one request or tunnel and reports the decision: metrics by decision, policy
// (`<ns>/<name>` of the AuthorizationPolicy) and source principal, and a rate-limited log line per denial.
import type http from 'node:http';
import { Counter, metric, type Registry } from '../observe/metrics.ts';
import { policyOfRbacName } from '../security/rbacTypes.ts';
import { evaluateRbac, type CompiledRbac, type RbacDecision, type RbacRequest } from './rbacEngine.ts';

export type AuthzMetrics = Counter<'decision' | 'policy' | 'source_principal' | 'protocol'>;

export function authzMetrics(registry: Registry): AuthzMetrics {
  return metric(registry, 'meshfed_sidecar_authz_requests_total', (registers) => new Counter({
    name: 'meshfed_sidecar_authz_requests_total',
    help: 'Inbound requests (HTTP) and tunnels (TCP) decided by authorization policy: decision allowed|denied|audited, the AuthorizationPolicy <ns>/<name> ("" = no ALLOW policy matched), the caller\'s SPIFFE principal',
    labelNames: ['decision', 'policy', 'source_principal', 'protocol'],
    registers,
  }));
}

/** Attributes of an HTTP request that RBAC matches on (Envoy's pseudo-headers included). */
export function httpRequestAttributes(req: http.IncomingMessage): Pick<RbacRequest, 'headers' | 'path'> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return {
    headers: (name) => {
      if (name === ':method') return req.method;
      if (name === ':path') return url;
      if (name === ':authority') return req.headers.host;
      const v = req.headers[name];
      return Array.isArray(v) ? v.join(',') : v;
    },
    path: q < 0 ? url : url.slice(0, q),
  };
}

export function authorize(
  filters: readonly CompiledRbac[],
  r: RbacRequest,
  m: AuthzMetrics,
  warn: (key: string, fields: Record<string, unknown>, msg: string) => void,
  protocol: 'http' | 'tcp',
): RbacDecision {
  if (filters.length === 0) return { allowed: true, audited: [], enforced: false };
  const d = evaluateRbac(filters, r);
  const source = r.principal ? r.principal.replace(/^spiffe:\/\//, '') : '';
  for (const a of d.audited) m.inc({ decision: 'audited', policy: policyOfRbacName(a), source_principal: source, protocol });
  if (d.enforced) {
    const policy = d.policy ? policyOfRbacName(d.policy) : '';
    m.inc({ decision: d.allowed ? 'allowed' : 'denied', policy, source_principal: source, protocol });
    if (!d.allowed) {
      warn(`authz|${policy}|${source}`, { policy: policy || '(no ALLOW policy matched)', rule: d.policy ?? '', sourcePrincipal: source || '(plaintext)', sourceIp: r.sourceIp, destinationPort: r.destinationPort, protocol, ...(r.headers ? { method: r.headers(':method'), path: r.path } : {}) }, 'sidecar inbound: denied by authorization policy');
    }
  }
  return d;
}
