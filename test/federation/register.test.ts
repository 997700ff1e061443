// registerCluster in-process against API stand-ins: an operator without rights is refused before anything is
// written; a failure after the first write removes exactly what this run created; network/region defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { startTopologyCluster } from '../../src/playground/clusters.ts';
import { kubeconfigFor } from '../../src/devcluster/server.ts';
import type { SecureServer } from '../../src/devcluster/secure.ts';
import { registerCluster, RegistrationError, DEFAULT_TOKEN_SECONDS } from '../../src/federation/register.ts';

const kcOf = (s: SecureServer, token = s.adminToken): k8s.KubeConfig => {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(kubeconfigFor([{ ...s, adminToken: token }]));
  return kc;
};

/** A ServiceAccount in `s` holding only `rules` (cluster-wide), and a kubeconfig with its token. */
async function limitedUser(s: SecureServer, name: string, rules: k8s.V1PolicyRule[]): Promise<k8s.KubeConfig> {
  const admin = kcOf(s);
  const core = admin.makeApiClient(k8s.CoreV1Api);
  const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({ namespace: 'default', body: { metadata: { name } } });
  await rbac.createClusterRole({ body: { metadata: { name }, rules } });
  await rbac.createClusterRoleBinding({ body: { metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name }, subjects: [{ kind: 'ServiceAccount', name, namespace: 'default' }] } });
  const tr = await core.createNamespacedServiceAccountToken({ name, namespace: 'default', body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  return kcOf(s, tr.status!.token);
}

/** What registration could leave behind in a remote cluster, and the registrations in the control plane. */
async function footprint(remote: k8s.KubeConfig, cp: k8s.KubeConfig): Promise<Record<string, string[]>> {
  const core = remote.makeApiClient(k8s.CoreV1Api);
  const rbac = remote.makeApiClient(k8s.RbacAuthorizationV1Api);
  const names = (l: { items: Array<{ metadata?: k8s.V1ObjectMeta }> }): string[] => l.items.map((i) => i.metadata!.name!).filter((n) => n.startsWith('meshfed')).sort();
  return {
    namespaces: names(await core.listNamespace()),
    serviceAccounts: names(await core.listServiceAccountForAllNamespaces()),
    clusterRoles: names(await rbac.listClusterRole()),
    bindings: names(await rbac.listClusterRoleBinding()),
    registrations: names(await cp.makeApiClient(k8s.CoreV1Api).listSecretForAllNamespaces({ labelSelector: 'meshfed.io/multicluster=true' })),
  };
}

test('registerCluster: refused without rights, rollback of only what it created, label defaults', { timeout: 60_000 }, async () => {
  const servers = await Promise.all([
    startTopologyCluster({ name: 'cp', region: 'r1', zones: ['r1a'], network: 'n1', podCIDR: '127.71.0.0/16', serviceCIDR: '10.71.0.0/16' }),
    startTopologyCluster({ name: 'far', region: 'r9', zones: ['r9a'], network: 'n9', podCIDR: '127.72.0.0/16', serviceCIDR: '10.72.0.0/16' }),
  ]);
  const [cpServer, farServer] = servers as [SecureServer, SecureServer];
  const cp = kcOf(cpServer);
  const far = kcOf(farServer);
  try {
    const empty = await footprint(far, cp);

    // an authenticated operator that may read but not create RBAC: one line naming what it lacks, nothing written
    const reader = await limitedUser(farServer, 'viewer', [{ apiGroups: [''], resources: ['namespaces', 'nodes'], verbs: ['get', 'list'] }]);
    await assert.rejects(registerCluster({ remote: reader, name: 'far', controlPlane: cp }), (e: unknown) =>
      e instanceof RegistrationError && /^the remote kubeconfig's user may not create namespaces in cluster "far": use credentials with cluster-admin rights$/.test(e.message));
    assert.deepEqual(await footprint(far, cp), empty);

    // the control plane refuses the Secret (its user may list registrations but not write them): the reader
    // identity this run created is removed again; the meshfed-system namespace that already existed stays
    await far.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: 'meshfed-system', labels: { team: 'platform' } } } });
    const before = await footprint(far, cp);
    const cpLister = await limitedUser(cpServer, 'lister', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] }]);
    const progress: string[] = [];
    await assert.rejects(registerCluster({ remote: far, name: 'far', controlPlane: cpLister, onProgress: (l) => progress.push(l) }), (e: unknown) =>
      e instanceof RegistrationError && /registering "far" failed \(403: .*\); everything this run created was removed/.test(e.message));
    assert.ok(progress.some((l) => /^created clusterrole meshfed-reader in far$/.test(l)), progress.join('\n'));
    assert.match(progress.at(-1)!, /^rolled back: clusterrolebinding meshfed-reader, clusterrole meshfed-reader, serviceaccount meshfed-system\/meshfed-reader$/);
    assert.deepEqual(await footprint(far, cp), before);
    assert.equal((await far.makeApiClient(k8s.CoreV1Api).readNamespace({ name: 'meshfed-system' })).metadata?.labels?.team, 'platform');

    // network and region come from the cluster's own labels when not given; the token is the documented bound one
    const ok = await registerCluster({ remote: far, name: 'far', controlPlane: cp });
    assert.equal(ok.registration.network, 'n9');
    assert.equal(ok.registration.region, 'r9');
    assert.deepEqual(ok.created, ['serviceaccount meshfed-system/meshfed-reader', 'clusterrole meshfed-reader', 'clusterrolebinding meshfed-reader']);
    const stored = await cp.makeApiClient(k8s.CoreV1Api).readNamespacedSecret({ name: 'meshfed-remote-far', namespace: 'meshfed-system' });
    const ks = await far.makeApiClient(k8s.CoreV1Api).readNamespace({ name: 'kube-system' });
    assert.equal(stored.metadata?.annotations?.['meshfed.io/cluster-uid'], ks.metadata!.uid);
    const narrow = new k8s.KubeConfig();
    narrow.loadFromString(Buffer.from(stored.data!.kubeconfig!, 'base64').toString());
    const review = await far.makeApiClient(k8s.AuthenticationV1Api).createTokenReview({ body: { spec: { token: narrow.getCurrentUser()!.token! } } });
    assert.equal(review.status?.user?.username, 'system:serviceaccount:meshfed-system:meshfed-reader');
    assert.ok(DEFAULT_TOKEN_SECONDS >= 365 * 24 * 3600);

    // a cluster without topology labels: asks for the flags instead of guessing
    await cp.makeApiClient(k8s.CoreV1Api).deleteNamespacedSecret({ name: 'meshfed-remote-far', namespace: 'meshfed-system' });
    const nodes = far.makeApiClient(k8s.CoreV1Api);
    const unlabel = [{ op: 'remove', path: '/metadata/labels/topology.istio.io~1network' }];
    for (const n of (await nodes.listNode()).items) await nodes.patchNode({ name: n.metadata!.name!, body: unlabel });
    await nodes.patchNamespace({ name: 'kube-system', body: unlabel });
    await assert.rejects(registerCluster({ remote: far, name: 'far2', controlPlane: cp, dryRun: true }), (e: unknown) =>
      e instanceof RegistrationError && /has no topology\.istio\.io\/network label on kube-system or its nodes: pass --network/.test(e.message));
    const dry = await registerCluster({ remote: far, name: 'far2', controlPlane: cp, dryRun: true, network: 'n9b' });
    assert.equal(dry.registration.network, 'n9b');
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
});

test('registerCluster: a server that accepts but never answers fails within the timeout, naming its URL', { timeout: 30_000 }, async () => {
  const sockets = new Set<net.Socket>();
  const hole = net.createServer((c) => { sockets.add(c); c.on('error', () => {}); });
  await new Promise<void>((r) => hole.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(hole.address() as net.AddressInfo).port}`;
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: 'hole', server: url, skipTLSVerify: true }], users: [{ name: 'u', token: 't' }], contexts: [{ name: 'hole', cluster: 'hole', user: 'u' }], currentContext: 'hole' });
  try {
    await assert.rejects(registerCluster({ remote: kc, name: 'hole', controlPlane: kc, timeoutMs: 500 }), (e: unknown) =>
      e instanceof RegistrationError && e.message === `the API server ${url} of cluster "hole": no answer within 500 ms`);
  } finally {
    for (const c of sockets) c.destroy();
    await new Promise((r) => hole.close(r));
  }
});
