// Pure RBAC evaluation: Role/ClusterRole rules and their bindings → allow or deny with a reason.
import type { KubeObject, RequestAttributes, UserInfo } from '../types.ts';

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject { kind: string; name: string; namespace?: string; apiGroup?: string }

export interface RbacObjects {
  roles: KubeObject[];
  clusterRoles: KubeObject[];
  roleBindings: KubeObject[];
  clusterRoleBindings: KubeObject[];
}

const has = (list: string[] | undefined, v: string) => !!list && (list.includes('*') || list.includes(v));

export function ruleAllows(rule: PolicyRule, a: RequestAttributes): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!a.isResourceRequest) {
    return !!rule.nonResourceURLs && rule.nonResourceURLs.some((u) => u === '*' || u === a.path || (u.endsWith('*') && a.path.startsWith(u.slice(0, -1))));
  }
  if (!has(rule.apiGroups, a.apiGroup)) return false;
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resOk = !!rule.resources && rule.resources.some((r) => r === '*' || r === res || (a.subresource && r === `*/${a.subresource}`) || (r === `${a.resource}/*` && !!a.subresource));
  if (!resOk) return false;
  if (rule.resourceNames && rule.resourceNames.length) return !!a.name && rule.resourceNames.includes(a.name);
  return true;
}

export function subjectMatches(s: Subject, user: UserInfo, bindingNs: string): boolean {
  if (s.kind === 'User') return s.name === user.username;
  if (s.kind === 'Group') return user.groups.includes(s.name);
  if (s.kind === 'ServiceAccount') return user.username === `system:serviceaccount:${s.namespace || bindingNs}:${s.name}`;
  return false;
}

function rulesOf(o: KubeObject | undefined): PolicyRule[] {
  return (o?.rules as PolicyRule[] | undefined) ?? [];
}

function bindingMatches(b: KubeObject, user: UserInfo): boolean {
  const subs = (b.subjects as Subject[] | undefined) ?? [];
  return subs.some((s) => subjectMatches(s, user, b.metadata.namespace ?? ''));
}

/** Every rule that applies to `user` in `namespace` ('' = cluster-wide rules only). */
export function rulesFor(user: UserInfo, namespace: string, p: RbacObjects): PolicyRule[] {
  const clusterRole = (n: string) => p.clusterRoles.find((r) => r.metadata.name === n);
  const out: PolicyRule[] = [];
  for (const b of p.clusterRoleBindings) {
    if (bindingMatches(b, user)) out.push(...rulesOf(clusterRole(String((b.roleRef as { name?: string } | undefined)?.name))));
  }
  if (namespace) {
    for (const b of p.roleBindings) {
      if (b.metadata.namespace !== namespace || !bindingMatches(b, user)) continue;
      const ref = (b.roleRef as { kind?: string; name?: string } | undefined) ?? {};
      const role = ref.kind === 'ClusterRole' ? clusterRole(String(ref.name)) : p.roles.find((r) => r.metadata.namespace === namespace && r.metadata.name === ref.name);
      out.push(...rulesOf(role));
    }
  }
  return out;
}

export function authorizeRbac(user: UserInfo, a: RequestAttributes, p: RbacObjects): { allowed: boolean; reason?: string } {
  if (user.groups.includes('system:masters')) return { allowed: true, reason: 'system:masters' };
  const allowed = rulesFor(user, a.namespace, p).some((r) => ruleAllows(r, a));
  return allowed ? { allowed: true, reason: 'RBAC: allowed' } : { allowed: false };
}

/** kube-apiserver's Forbidden message for a denied request. */
export function forbiddenMessage(user: UserInfo, a: RequestAttributes): string {
  if (!a.isResourceRequest) return `forbidden: User "${user.username}" cannot ${a.verb} path "${a.path}"`;
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const gr = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  const where = a.namespace ? ` in the namespace "${a.namespace}"` : ' at the cluster scope';
  return `${gr}${a.name ? ` "${a.name}"` : ''} is forbidden: User "${user.username}" cannot ${a.verb} resource "${res}" in API group "${a.apiGroup}"${where}`;
}
