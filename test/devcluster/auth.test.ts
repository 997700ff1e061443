// Security of the stand-in: TokenRequest, TokenReview, SA bearer tokens, RBAC 403s, access reviews, default SAs.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { request as httpsRequest } from 'node:https';
import { startSecureApiServer, type SecureServer } from '../../src/devcluster/secure.ts';
import { kubeconfigFor } from '../../src/devcluster/index.ts';
import { authenticateSaToken } from '../../src/devcluster/auth/hooks.ts';
import { forbiddenMessage, ruleAllows } from '../../src/devcluster/auth/rbac.ts';
import { statusOf, waitFor } from './harness.ts';
import { standinTls } from '../../src/playground/standinTls.ts';

let server: SecureServer;
let kc: k8s.KubeConfig;

function clientFor(token: string): k8s.KubeConfig {
  const c = new k8s.KubeConfig();
  c.loadFromString(kubeconfigFor([{ ...server, adminToken: token }]));
  return c;
}

async function tokenFor(ns: string, sa: string, spec: object = {}): Promise<string> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const tr = await core.createNamespacedServiceAccountToken({ name: sa, namespace: ns, body: { spec } as k8s.AuthenticationV1TokenRequest });
  return tr.status!.token;
}

async function review(token: string, audiences?: string[]) {
  const api = kc.makeApiClient(k8s.AuthenticationV1Api);
  return (await api.createTokenReview({ body: { spec: { token, audiences } } })).status!;
}

before(async () => {
  server = await startSecureApiServer({ name: 'east', tls: standinTls('east') });
  kc = clientFor(server.adminToken);
  await kc.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: 'demo' } } });
  await kc.makeApiClient(k8s.CoreV1Api).createNamespacedServiceAccount({ namespace: 'demo', body: { metadata: { name: 'reader' } } });
});
after(async () => { await server.close(); });

test('every namespace gets a default ServiceAccount', async () => {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await waitFor(() => { try { server.store.get(server.store.info('', 'serviceaccounts'), 'demo', 'default'); return true; } catch { return false; } }, 'default SA in demo');
  const sa = await core.readNamespacedServiceAccount({ name: 'default', namespace: 'kube-system' });
  assert.equal(sa.metadata?.name, 'default');
});

test('TokenRequest issues a JWT with the real claims; missing SA is 404', async () => {
  const token = await tokenFor('demo', 'reader', { audiences: ['meshfed'], expirationSeconds: 1200 });
  const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
  assert.equal(claims.sub, 'system:serviceaccount:demo:reader');
  assert.deepEqual(claims.aud, ['meshfed']);
  assert.equal(claims.exp - claims.iat, 1200);
  assert.equal(claims['kubernetes.io'].namespace, 'demo');
  assert.equal(claims['kubernetes.io'].serviceaccount.name, 'reader');
  assert.match(claims['kubernetes.io'].serviceaccount.uid, /^[0-9a-f-]{36}$/);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const e = await statusOf(core.createNamespacedServiceAccountToken({ name: 'ghost', namespace: 'demo', body: { spec: {} } as k8s.AuthenticationV1TokenRequest }));
  assert.equal(e.code, 404);
  assert.equal(e.body.message, 'serviceaccounts "ghost" not found');
});

test('TokenReview: valid, forged, expired, wrong audience, deleted SA', async () => {
  const token = await tokenFor('demo', 'reader');
  const ok = await review(token);
  assert.equal(ok.authenticated, true);
  assert.equal(ok.user?.username, 'system:serviceaccount:demo:reader');
  assert.deepEqual(ok.user?.groups, ['system:serviceaccounts', 'system:serviceaccounts:demo', 'system:authenticated']);

  const [h, p, s] = token.split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  const forgedPayload = Buffer.from(JSON.stringify({ ...claims, sub: 'system:serviceaccount:kube-system:admin' })).toString('base64url');
  const forged = await review(`${h}.${forgedPayload}.${s}`);
  assert.notEqual(forged.authenticated, true);
  assert.match(forged.error ?? '', /cryptographic|invalid/);

  const sa = server.store.get(server.store.info('', 'serviceaccounts'), 'demo', 'reader');
  const expired = server.signer.issue({ namespace: 'demo', name: 'reader', uid: String(sa.metadata.uid), expirationSeconds: 600, now: Date.now() - 3600_000 }).token;
  const ex = await review(expired);
  assert.notEqual(ex.authenticated, true);
  assert.match(ex.error ?? '', /expired/);

  const aud = await tokenFor('demo', 'reader', { audiences: ['meshfed'] });
  assert.equal((await review(aud, ['meshfed'])).authenticated, true);
  assert.notEqual((await review(aud, ['other'])).authenticated, true);

  await kc.makeApiClient(k8s.CoreV1Api).createNamespacedServiceAccount({ namespace: 'demo', body: { metadata: { name: 'temp' } } });
  const tmp = await tokenFor('demo', 'temp');
  await kc.makeApiClient(k8s.CoreV1Api).deleteNamespacedServiceAccount({ name: 'temp', namespace: 'demo' });
  const gone = await review(tmp);
  assert.notEqual(gone.authenticated, true);
  assert.match(gone.error ?? '', /not found/);
});

test('unknown or malformed bearer token → 401 Status', async () => {
  for (const t of ['nope', 'a.b.c']) {
    const e = await statusOf(clientFor(t).makeApiClient(k8s.CoreV1Api).listNamespace());
    assert.equal(e.code, 401);
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(server.url + '/api/v1/namespaces', { ca: server.ca, headers: { authorization: `Bearer ${t}` } }, (res) => {
        let b = '';
        res.on('data', (c) => (b += c));
        res.on('end', () => resolve(b));
      });
      req.on('error', reject);
      req.end();
    });
    const st = JSON.parse(body);
    assert.equal(st.kind, 'Status');
    assert.equal(st.code, 401);
    assert.equal(st.reason, 'Unauthorized');
  }
});

test('RBAC: denied SA gets 403 with kube-apiserver wording; a RoleBinding grants exactly its rules', async () => {
  const token = await tokenFor('demo', 'reader');
  const sa = clientFor(token).makeApiClient(k8s.CoreV1Api);
  const denied = await statusOf(sa.readNamespacedService({ name: 'web', namespace: 'demo' }));
  assert.equal(denied.code, 403);
  assert.equal(denied.body.message, 'services "web" is forbidden: User "system:serviceaccount:demo:reader" cannot get resource "services" in API group "" in the namespace "demo"');

  const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({ namespace: 'demo', body: { metadata: { name: 'svc-read' }, rules: [{ apiGroups: [''], resources: ['services'], verbs: ['get', 'list'] }] } });
  await rbac.createNamespacedRoleBinding({ namespace: 'demo', body: { metadata: { name: 'reader-svc' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'svc-read' }, subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: 'demo' }] } });
  const list = await sa.listNamespacedService({ namespace: 'demo' });
  assert.deepEqual(list.items, []);
  const del = await statusOf(sa.deleteNamespacedService({ name: 'web', namespace: 'demo' }));
  assert.equal(del.code, 403);
  const other = await statusOf(sa.listNamespacedService({ namespace: 'default' }));
  assert.equal(other.code, 403);
  const nodes = await statusOf(sa.listNode());
  assert.equal(nodes.code, 403);
  assert.equal(nodes.body.message, 'nodes is forbidden: User "system:serviceaccount:demo:reader" cannot list resource "nodes" in API group "" at the cluster scope');
});

test('SelfSubjectAccessReview and SubjectAccessReview answer can-i', async () => {
  const token = await tokenFor('demo', 'reader');
  const self = clientFor(token).makeApiClient(k8s.AuthorizationV1Api);
  const ask = async (verb: string, resource: string) =>
    (await self.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { verb, resource, namespace: 'demo' } } } })).status!.allowed;
  assert.equal(await ask('list', 'services'), true);
  assert.equal(await ask('delete', 'services'), false);
  const admin = kc.makeApiClient(k8s.AuthorizationV1Api);
  const sar = await admin.createSubjectAccessReview({ body: { spec: { user: 'system:serviceaccount:demo:reader', groups: ['system:serviceaccounts'], resourceAttributes: { verb: 'get', resource: 'services', namespace: 'demo' } } } });
  assert.equal(sar.status!.allowed, true);
  const no = await admin.createSubjectAccessReview({ body: { spec: { user: 'mallory', resourceAttributes: { verb: 'get', resource: 'secrets', namespace: 'demo' } } } });
  assert.equal(no.status!.allowed, false);
  const adminSelf = await admin.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { verb: 'delete', resource: 'nodes' } } } });
  assert.equal(adminSelf.status!.allowed, true);
});

test('rule matching: wildcards, subresources, resourceNames, nonResourceURLs', () => {
  const a = { verb: 'get', apiGroup: '', resource: 'pods', subresource: 'log', namespace: 'x', name: 'p1', path: '', isResourceRequest: true };
  assert.equal(ruleAllows({ apiGroups: [''], resources: ['pods'], verbs: ['get'] }, a), false);
  assert.equal(ruleAllows({ apiGroups: [''], resources: ['pods/log'], verbs: ['get'] }, a), true);
  assert.equal(ruleAllows({ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }, a), true);
  assert.equal(ruleAllows({ apiGroups: [''], resources: ['pods/log'], verbs: ['get'], resourceNames: ['p2'] }, a), false);
  const nr = { ...a, resource: '', subresource: '', name: '', path: '/metrics', isResourceRequest: false };
  assert.equal(ruleAllows({ verbs: ['get'], nonResourceURLs: ['/metrics'] }, nr), true);
  assert.equal(ruleAllows({ verbs: ['get'], nonResourceURLs: ['/healthz/*'] }, nr), false);
  assert.equal(forbiddenMessage({ username: 'u', uid: '', groups: [] }, { ...a, apiGroup: 'apps', resource: 'deployments', subresource: '', namespace: '', name: '' }),
    'deployments.apps is forbidden: User "u" cannot get resource "deployments" in API group "apps" at the cluster scope');
});

test('with a data dir, ServiceAccount tokens stay valid across a restart', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'meshfed-auth-'));
  try {
    const first = await startSecureApiServer({ name: 'persist', tls: standinTls('persist'), dataDir: dir });
    first.store.create(first.store.info('', 'serviceaccounts'), 'default', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'keep' } });
    const sa = first.store.get(first.store.info('', 'serviceaccounts'), 'default', 'keep');
    const token = first.signer.issue({ namespace: 'default', name: 'keep', uid: String(sa.metadata.uid) }).token;
    first.store.persist();
    await first.close();
    const second = await startSecureApiServer({ name: 'persist', tls: standinTls('persist'), dataDir: dir });
    try {
      const r = authenticateSaToken(second.store, second.signer, token);
      assert.ok('user' in r, JSON.stringify(r));
      assert.equal(r.user.username, 'system:serviceaccount:default:keep');
      const other = await startSecureApiServer({ name: 'persist', tls: standinTls('persist') });
      assert.equal(other.signer.verify(token).ok, false);
      await other.close();
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
