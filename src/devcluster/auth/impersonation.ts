// Impersonation (`kubectl --as USER --as-group G`): the Impersonate-User / Impersonate-Group headers replace the
// authenticated user when it may `impersonate` them, as kube-apiserver does; otherwise 403.
import type { IncomingMessage } from 'node:http';
import { forbidden } from '../errors.ts';
import type { AuthzResult, RequestAttributes, UserInfo } from '../types.ts';

type Authorize = (user: UserInfo, attrs: RequestAttributes) => AuthzResult | Promise<AuthzResult>;

const SA_PREFIX = 'system:serviceaccount:';

function headerValues(req: IncomingMessage, name: string): string[] {
  const v = req.headers[name];
  return v === undefined ? [] : (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
}

export async function applyImpersonation(req: IncomingMessage, user: UserInfo, authorize: Authorize): Promise<UserInfo> {
  const [asUser] = headerValues(req, 'impersonate-user');
  const asGroups = headerValues(req, 'impersonate-group');
  if (!asUser) {
    if (asGroups.length) throw forbidden('requested impersonation of groups without impersonating a user');
    return user;
  }
  const check = async (resource: string, name: string, namespace = ''): Promise<void> => {
    const attrs: RequestAttributes = { verb: 'impersonate', apiGroup: '', resource, subresource: '', namespace, name, path: req.url ?? '/', isResourceRequest: true };
    const r = await authorize(user, attrs);
    if (!r.allowed) {
      const scope = namespace ? `in the namespace "${namespace}"` : 'at the cluster scope';
      throw forbidden(`${resource} "${name}" is forbidden: User "${user.username}" cannot impersonate resource "${resource}" in API group "" ${scope}`);
    }
  };
  let groups: string[];
  if (asUser.startsWith(SA_PREFIX)) {
    const [ns, sa] = asUser.slice(SA_PREFIX.length).split(':');
    await check('serviceaccounts', sa ?? '', ns ?? '');
    groups = ['system:serviceaccounts', `system:serviceaccounts:${ns}`];
  } else {
    await check('users', asUser);
    groups = [];
  }
  for (const g of asGroups) await check('groups', g);
  return { username: asUser, uid: '', groups: [...new Set([...groups, ...asGroups, 'system:authenticated'])] };
}
