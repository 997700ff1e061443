// The security hooks of one stand-in cluster: bearer-token authn (admin + SA JWTs), RBAC authz,
// TokenRequest, TokenReview and (Self)SubjectAccessReview.
import type { IncomingMessage } from 'node:http';
import { ApiError, badRequest } from '../errors.ts';
import type { Store } from '../store.ts';
import type { AuthnResult, KubeObject, RequestAttributes, StandinLog, UserInfo } from '../types.ts';
import type { ApiHooks, HookContext } from '../hookTypes.ts';
import { ADMIN_USER, bearerToken, silentLog } from '../defaults.ts';
import { authorizeRbac, rulesFor, type RbacObjects } from './rbac.ts';
import { saGroups, TokenSigner } from './tokens.ts';

export interface SecurityOptions { cluster: string; adminToken: string; signer?: TokenSigner; log?: StandinLog }

export interface Security { hooks: Partial<ApiHooks>; signer: TokenSigner }

function rbacObjects(store: Store): RbacObjects {
  const l = (p: string) => store.list(store.info('rbac.authorization.k8s.io', p), '').items;
  return { roles: l('roles'), clusterRoles: l('clusterroles'), roleBindings: l('rolebindings'), clusterRoleBindings: l('clusterrolebindings') };
}

/** Authenticate a ServiceAccount JWT against the signer and the store (the SA must still exist with the same uid). */
export function authenticateSaToken(store: Store, signer: TokenSigner, token: string, audiences?: string[]): { user: UserInfo; audiences: string[] } | { error: string } {
  const v = signer.verify(token, audiences);
  if (!v.ok) return { error: v.error };
  const { namespace, serviceaccount } = v.claims['kubernetes.io'];
  let sa: KubeObject;
  try {
    sa = store.get(store.info('', 'serviceaccounts'), namespace, serviceaccount.name);
  } catch {
    return { error: `serviceaccounts "${serviceaccount.name}" not found` };
  }
  if (sa.metadata.uid !== serviceaccount.uid) return { error: `service account UID (${serviceaccount.uid}) does not match claim (${String(sa.metadata.uid)})` };
  const want = audiences && audiences.length ? audiences : signer.defaultAudiences;
  return {
    user: { username: v.claims.sub, uid: serviceaccount.uid, groups: saGroups(namespace) },
    audiences: v.claims.aud.filter((a) => want.includes(a)),
  };
}

function spec(body: KubeObject): Record<string, unknown> {
  const s = body.spec;
  if (!s || typeof s !== 'object') throw badRequest(`${body.kind}: spec is required`);
  return s as Record<string, unknown>;
}

function attrsFrom(s: Record<string, unknown>, ns: string): RequestAttributes {
  const ra = s.resourceAttributes as Record<string, string> | undefined;
  const nra = s.nonResourceAttributes as Record<string, string> | undefined;
  if (ra) {
    return {
      verb: ra.verb ?? '', apiGroup: ra.group ?? '', resource: ra.resource ?? '', subresource: ra.subresource ?? '',
      namespace: ra.namespace ?? ns, name: ra.name ?? '', path: '', isResourceRequest: true,
    };
  }
  if (nra) return { verb: nra.verb ?? '', apiGroup: '', resource: '', subresource: '', namespace: '', name: '', path: nra.path ?? '', isResourceRequest: false };
  throw badRequest('spec.resourceAttributes or spec.nonResourceAttributes is required');
}

/** What every authenticated user may ask about itself (kube-apiserver's system:basic-user and system:discovery). */
const SELF_REVIEWS = new Set(['authorization.k8s.io/selfsubjectaccessreviews', 'authorization.k8s.io/selfsubjectrulesreviews', 'authentication.k8s.io/selfsubjectreviews']);
const BASIC_RULES = {
  resourceRules: [
    { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] },
    { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] },
  ],
  nonResourceRules: [
    { verbs: ['get'], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'] },
  ],
};

/** Pure: the SelfSubjectRulesReview status of a user in a namespace: its RBAC rules plus the basic ones. */
export function rulesReviewStatus(user: UserInfo, namespace: string, p: RbacObjects): Record<string, unknown> {
  const rules = user.groups.includes('system:masters')
    ? [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] }]
    : rulesFor(user, namespace, p);
  const resourceRules = rules.filter((r) => !r.nonResourceURLs?.length).map((r) => ({ verbs: r.verbs, ...(r.apiGroups ? { apiGroups: r.apiGroups } : {}), ...(r.resources ? { resources: r.resources } : {}), ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}) }));
  const nonResourceRules = rules.filter((r) => r.nonResourceURLs?.length).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs }));
  return { resourceRules: [...resourceRules, ...BASIC_RULES.resourceRules], nonResourceRules: [...nonResourceRules, ...BASIC_RULES.nonResourceRules], incomplete: false };
}

export function securityHooks(opts: SecurityOptions): Security {
  const signer = opts.signer ?? new TokenSigner(opts.cluster);
  const log = opts.log ?? silentLog;
  let storeRef: Store | undefined;
  const store = (): Store => {
    if (!storeRef) throw new ApiError(503, 'ServiceUnavailable', `cluster "${opts.cluster}" is still starting`);
    return storeRef;
  };

  const authenticate = (req: IncomingMessage): AuthnResult => {
    const t = bearerToken(req);
    if (!t) return { error: 'unauthorized' };
    if (t === opts.adminToken) return { user: ADMIN_USER };
    if (!storeRef) return { error: 'unauthorized' };
    const r = authenticateSaToken(storeRef, signer, t);
    if ('user' in r) return { user: r.user };
    // like kube-apiserver, the client only sees "Unauthorized"; the reason goes to the log
    log.info({ cluster: opts.cluster, reason: r.error }, 'bearer token rejected');
    return { error: 'unauthorized' };
  };

  const authorize = (user: UserInfo, a: RequestAttributes) => {
    if (user.groups.includes('system:masters')) return { allowed: true };
    // every authenticated user may ask about itself (kube-apiserver's system:basic-user)
    if (a.isResourceRequest && a.verb === 'create' && SELF_REVIEWS.has(`${a.apiGroup}/${a.resource}`)) return { allowed: true };
    if (!a.isResourceRequest && ['/api', '/apis', '/version', '/openapi/v2', '/healthz', '/readyz', '/livez'].some((p) => a.path === p || a.path.startsWith(p + '/'))) return { allowed: true };
    return authorizeRbac(user, a, rbacObjects(store()));
  };

  const tokenRequest = (ctx: HookContext, req: { method: string; namespace: string; name: string; body: unknown }): KubeObject => {
    if (req.method !== 'POST') throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    const sa = ctx.store.get(ctx.store.info('', 'serviceaccounts'), req.namespace, req.name);
    const body = (req.body ?? {}) as { spec?: { audiences?: string[]; expirationSeconds?: number } };
    const exp = body.spec?.expirationSeconds ?? 3600;
    if (!Number.isInteger(exp) || exp < 600) throw new ApiError(422, 'Invalid', `TokenRequest.authentication.k8s.io "${req.name}" is invalid: spec.expirationSeconds: Invalid value: ${exp}: may not specify a duration less than 10 minutes`);
    const { token, claims } = signer.issue({ namespace: req.namespace, name: req.name, uid: String(sa.metadata.uid), audiences: body.spec?.audiences, expirationSeconds: exp });
    return {
      kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1',
      metadata: { name: req.name, namespace: req.namespace },
      spec: { audiences: claims.aud, expirationSeconds: exp, boundObjectRef: null },
      status: { token, expirationTimestamp: new Date(claims.exp * 1000).toISOString().replace(/\.\d+Z$/, 'Z') },
    };
  };

  const tokenReview = (ctx: HookContext, body: KubeObject): KubeObject => {
    const s = spec(body);
    const token = typeof s.token === 'string' ? s.token : '';
    const audiences = Array.isArray(s.audiences) ? (s.audiences as string[]) : undefined;
    let status: Record<string, unknown>;
    if (token === opts.adminToken) status = { authenticated: true, user: ADMIN_USER, audiences: audiences ?? signer.defaultAudiences };
    else {
      const r = authenticateSaToken(ctx.store, signer, token, audiences);
      status = 'user' in r ? { authenticated: true, user: r.user, audiences: r.audiences } : { user: {}, error: r.error };
    }
    return { kind: 'TokenReview', apiVersion: 'authentication.k8s.io/v1', metadata: {}, spec: s, status };
  };

  const review = (kind: string, self: boolean) => (ctx: HookContext, body: KubeObject, ns: string): KubeObject => {
    const s = spec(body);
    let user: UserInfo = ctx.user;
    if (!self) {
      if (typeof s.user !== 'string' && !Array.isArray(s.groups)) throw badRequest(`${kind}: spec.user or spec.groups is required`);
      user = { username: String(s.user ?? ''), uid: String(s.uid ?? ''), groups: (s.groups as string[] | undefined) ?? [] };
    }
    const a = attrsFrom(s, ns);
    const r = authorize(user, a);
    return {
      kind, apiVersion: 'authorization.k8s.io/v1', metadata: {}, spec: s,
      status: r.allowed ? { allowed: true, reason: r.reason ?? '' } : { allowed: false },
    };
  };

  const selfSubjectReview = (ctx: HookContext): KubeObject => ({
    kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') },
    status: { userInfo: { username: ctx.user.username, ...(ctx.user.uid ? { uid: ctx.user.uid } : {}), groups: ctx.user.groups } },
  });

  const selfSubjectRulesReview = (ctx: HookContext, body: KubeObject): KubeObject => {
    const s = spec(body);
    const namespace = typeof s.namespace === 'string' ? s.namespace : '';
    return { kind: 'SelfSubjectRulesReview', apiVersion: 'authorization.k8s.io/v1', metadata: {}, spec: s, status: rulesReviewStatus(ctx.user, namespace, rbacObjects(ctx.store)) };
  };

  const storeRefController = { start(s: Store) { storeRef = s; }, stop() { storeRef = undefined; } };
  return {
    signer,
    hooks: {
      authenticate, authorize,
      subresourceHandlers: { 'serviceaccounts/token': tokenRequest },
      virtualCreate: {
        'authentication.k8s.io/tokenreviews': tokenReview,
        'authorization.k8s.io/selfsubjectaccessreviews': review('SelfSubjectAccessReview', true),
        'authorization.k8s.io/subjectaccessreviews': review('SubjectAccessReview', false),
        'authorization.k8s.io/selfsubjectrulesreviews': selfSubjectRulesReview,
        'authentication.k8s.io/selfsubjectreviews': selfSubjectReview,
      },
      controllers: [storeRefController],
    },
  };
}
