import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { harness, type Harness } from './harness.ts';
import type { RequestAttributes, UserInfo } from '../../src/devcluster/types.ts';
import type { ApiHooks } from '../../src/devcluster/hookTypes.ts';
import { ADMIN_USER, bearerToken } from '../../src/devcluster/defaults.ts';

const seen: RequestAttributes[] = [];
let started = 0;
let stopped = 0;
const reader: UserInfo = { username: 'system:serviceaccount:default:reader', uid: 'r', groups: ['system:serviceaccounts'] };
const hooks: Partial<ApiHooks> = {
  authenticate: (req: IncomingMessage) => {
    const t = bearerToken(req);
    if (t === 'admin') return { user: ADMIN_USER };
    if (t === 'reader') return { user: reader };
    return { error: 'unauthorized' };
  },
  authorize: (user, attrs) => {
    seen.push(attrs);
    if (user.username === ADMIN_USER.username) return { allowed: true };
    return { allowed: attrs.verb === 'get' || attrs.verb === 'list' };
  },
  subresourceHandlers: {
    'serviceaccounts/token': (ctx, r) => ({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: { name: r.name, namespace: r.namespace }, status: { token: `tok-for-${r.namespace}-${r.name}-by-${ctx.user.username}` } }),
  },
  virtualCreate: {
    'authentication.k8s.io/tokenreviews': (_ctx, body) => ({ ...body, status: { authenticated: (body.spec as { token: string }).token === 'good' } }),
  },
  controllers: [{ start: () => { started++; }, stop: () => { stopped++; } }],
};

let h: Harness;
before(async () => { h = await harness({ adminToken: 'admin', hooks }); });
after(async () => { await h.server.close(); assert.equal(stopped, 1); });

test('hooks: authorization attributes, 403 Status shape, subresource and virtual-create handlers, controllers started', async () => {
  assert.equal(started, 1);
  const denied = await h.raw('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'x' } }, { authorization: 'Bearer reader' });
  assert.equal(denied.status, 403);
  assert.equal(denied.json.reason, 'Forbidden');
  assert.equal(denied.json.message, 'configmaps is forbidden: User "system:serviceaccount:default:reader" cannot create resource "configmaps" in API group "" in the namespace "default"');
  const attrs = seen.at(-1)!;
  assert.deepEqual({ ...attrs }, { verb: 'create', apiGroup: '', resource: 'configmaps', subresource: '', namespace: 'default', name: '', path: '/api/v1/namespaces/default/configmaps', isResourceRequest: true });
  const ok = await h.raw('GET', '/api/v1/namespaces/default/configmaps', undefined, { authorization: 'Bearer reader' });
  assert.equal(ok.status, 200);
  const tok = await h.raw('POST', '/api/v1/namespaces/default/serviceaccounts/sa1/token', { spec: { audiences: ['x'] } });
  assert.equal(tok.status, 201);
  assert.equal(tok.json.status.token, 'tok-for-default-sa1-by-kubernetes-admin');
  const tr = await h.raw('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'good' } });
  assert.equal(tr.status, 201);
  assert.equal(tr.json.status.authenticated, true);
  const listReviews = await h.raw('GET', '/apis/authentication.k8s.io/v1/tokenreviews');
  assert.equal(listReviews.status, 405);
  const table = await h.raw('GET', '/api/v1/namespaces', undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
  assert.equal(table.json.kind, 'Table');
  assert.ok(table.json.rows.some((r: any) => r.cells[0] === 'kube-system'));
  const noStatus = await h.raw('PUT', '/api/v1/namespaces/default/configmaps/none/status', { metadata: { name: 'none' } });
  assert.equal(noStatus.status, 404);
  const putMissing = await h.raw('PUT', '/api/v1/namespaces/default/configmaps/none', { metadata: { name: 'none' } });
  assert.equal(putMissing.status, 404);
});
