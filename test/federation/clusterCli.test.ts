// `meshfed cluster add | list | remove` run as a user runs them, against three API stand-ins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { startTopologyCluster } from '../../src/playground/clusters.ts';
import { kubeconfigFor } from '../../src/devcluster/server.ts';
import { meshfed } from '../helpers/meshfed.ts';
import { kubectl } from '../helpers/kubectl.ts';
import { adminKubeConfig } from '../../src/devcluster/clientConfig.ts';

const dir = mkdtempSync(join(tmpdir(), 'meshfed-cluster-cli-'));
const file = (name: string, text: string): string => { const f = join(dir, name); writeFileSync(f, text); return f; };
const admin = adminKubeConfig;
const secretsOf = async (kc: k8s.KubeConfig): Promise<string[]> =>
  (await kc.makeApiClient(k8s.CoreV1Api).listNamespacedSecret({ namespace: 'meshfed-system' }).catch(() => ({ items: [] as k8s.V1Secret[] }))).items.map((s) => s.metadata!.name!).sort();
const rbacOf = async (kc: k8s.KubeConfig): Promise<string[]> =>
  (await kc.makeApiClient(k8s.RbacAuthorizationV1Api).listClusterRole()).items.map((r) => r.metadata!.name!).filter((n) => n.startsWith('meshfed')).sort();

test('cluster add/list/remove: narrow credentials stored, every bad input one clear line with nothing written, purge', { timeout: 600_000 }, async () => {
  const servers = await Promise.all([
    startTopologyCluster({ name: 'cp', region: 'r1', zones: ['r1a'], network: 'n1', podCIDR: '127.61.0.0/16', serviceCIDR: '10.61.0.0/16' }),
    startTopologyCluster({ name: 'east', region: 'r1', zones: ['r1b'], network: 'n1', podCIDR: '127.62.0.0/16', serviceCIDR: '10.62.0.0/16' }),
    startTopologyCluster({ name: 'west', region: 'r2', zones: ['r2a'], network: 'n2', podCIDR: '127.63.0.0/16', serviceCIDR: '10.63.0.0/16' }),
  ]);
  const [cp, east, west] = servers.map(admin) as [k8s.KubeConfig, k8s.KubeConfig, k8s.KubeConfig];
  const cpFile = file('cp.kubeconfig', kubeconfigFor([servers[0]!]));
  const eastFile = file('east.kubeconfig', kubeconfigFor([servers[1]!]));
  const westFile = file('west.kubeconfig', kubeconfigFor([servers[2]!]));
  const cfg = ['--config-kubeconfig', cpFile];
  const fake = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([
    { name: 'east', server: servers[1]!.url, network: 'n1', region: 'r1', state: 'connected', since: new Date().toISOString(), lastSync: new Date().toISOString(), services: 4, endpoints: 9 },
  ])));
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
  try {
    // dry run: the Secret is printed, nothing is created anywhere, and kubectl accepts it
    const dry = await meshfed(['cluster', 'add', '--kubeconfig', eastFile, '--name', 'east', ...cfg, '--dry-run', '-o', 'yaml']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /kind: Secret[\s\S]*meshfed\.io\/multicluster: "true"[\s\S]*meshfed\.io\/cluster-name: east/);
    assert.deepEqual(await rbacOf(east), []);
    assert.deepEqual(await secretsOf(cp), []);
    assert.doesNotMatch(dry.stdout, new RegExp(servers[1]!.adminToken), 'the operator token must never be printed');
    const applied = await kubectl(cpFile, ['apply', '-f', '-'], 'apiVersion: v1\nkind: Namespace\nmetadata: {name: meshfed-system}\n---\n' + dry.stdout);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /secret\/meshfed-remote-east created/);
    const gitops = await cp.makeApiClient(k8s.CoreV1Api).readNamespacedSecret({ name: 'meshfed-remote-east', namespace: 'meshfed-system' });
    assert.equal(gitops.metadata?.labels?.['meshfed.io/multicluster'], 'true');
    assert.equal(gitops.metadata?.annotations?.['meshfed.io/cluster-uid'], (await east.makeApiClient(k8s.CoreV1Api).readNamespace({ name: 'kube-system' })).metadata!.uid);
    await cp.makeApiClient(k8s.CoreV1Api).deleteNamespacedSecret({ name: 'meshfed-remote-east', namespace: 'meshfed-system' });

    const add = await meshfed(['cluster', 'add', '--kubeconfig', eastFile, '--name', 'east', ...cfg]);
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /cluster east registered \(https:\/\/127\.0\.0\.1:\d+, network n1, region r1\)/);
    assert.equal((await meshfed(['cluster', 'add', '--kubeconfig', westFile, '--name', 'west', ...cfg])).code, 0);
    const sec = await cp.makeApiClient(k8s.CoreV1Api).readNamespacedSecret({ name: 'meshfed-remote-east', namespace: 'meshfed-system' });
    const stored = Buffer.from(sec.data!.kubeconfig!, 'base64').toString();
    assert.ok(!stored.includes(servers[1]!.adminToken), 'the operator token must never be stored');
    assert.equal(sec.metadata?.annotations?.['meshfed.io/network'], 'n1');
    const narrow = new k8s.KubeConfig();
    narrow.loadFromString(stored);
    await narrow.makeApiClient(k8s.CoreV1Api).listServiceForAllNamespaces();
    await assert.rejects(narrow.makeApiClient(k8s.CoreV1Api).listNamespacedSecret({ namespace: 'kube-system' }), (e: { code?: number }) => e.code === 403);
    const narrowFile = file('narrow.kubeconfig', stored);
    const kSecrets = await kubectl(narrowFile, ['get', 'secrets', '-n', 'kube-system']);
    assert.equal(kSecrets.code, 1);
    assert.match(kSecrets.stderr, /Forbidden|forbidden/);
    assert.equal((await kubectl(narrowFile, ['get', 'services', '-A'])).code, 0);

    // bad input: each one line, exit 1, nothing written
    const before = { secrets: await secretsOf(cp), rbac: await rbacOf(west) };
    const unreachable = file('gone.kubeconfig', kubeconfigFor([{ ...servers[2]!, name: 'gone', url: 'https://127.0.0.1:1' }]));
    const noAccess = file('noaccess.kubeconfig', kubeconfigFor([{ ...servers[2]!, adminToken: 'not-a-token' }]));
    const cases: Array<[string[], RegExp]> = [
      [['--kubeconfig', file('broken.kubeconfig', 'clusters: [\n  not yaml')], /cannot load remote kubeconfig .*broken\.kubeconfig/],
      [['--kubeconfig', westFile, '--context', 'nope'], /context "nope" is not in .*west\.kubeconfig \(contexts: west\)/],
      [['--kubeconfig', unreachable, '--name', 'gone'], /cannot reach the API server https:\/\/127\.0\.0\.1:1 of cluster "gone": .*ECONNREFUSED/],
      [['--kubeconfig', westFile, '--name', 'east'], /a cluster named "east" is already registered/],
      [['--kubeconfig', eastFile, '--name', 'east-again'], /this cluster \(kube-system uid [-0-9a-f]+\) is already registered as "east"/],
      [['--kubeconfig', noAccess, '--name', 'other'], /credentials are rejected by https:\/\/127\.0\.0\.1:\d+ \(401\)/],
      [['--kubeconfig', westFile, '--name', 'Bad_Name'], /cluster name "Bad_Name" is not a DNS-1123 label/],
    ];
    // independent and write-free: two at a time (CLI start-up dominates; more would starve a 2-core machine)
    const results: Awaited<ReturnType<typeof meshfed>>[] = [];
    for (let i = 0; i < cases.length; i += 2) {
      results.push(...await Promise.all(cases.slice(i, i + 2).map(([argv]) => meshfed(['cluster', 'add', ...argv, ...cfg]))));
    }
    cases.forEach(([argv, re], i) => {
      const r = results[i]!;
      assert.equal(r.code, 1, `${argv.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stdout, '', argv.join(' '));
      const lines = r.stderr.trim().split('\n');
      assert.match(lines[lines.length - 1]!, re);
    });
    assert.deepEqual({ secrets: await secretsOf(cp), rbac: await rbacOf(west) }, before);

    // list: live state from the control plane when it answers, the registrations alone when it does not
    const port = (fake.address() as AddressInfo).port;
    const live = await meshfed(['cluster', 'list', ...cfg, '--admin', `127.0.0.1:${port}`]);
    assert.equal(live.code, 0, live.stderr);
    assert.match(live.stdout, /^east\s+https:\/\/127\.0\.0\.1:\d+\s+n1\s+r1\s+connected\s+4\s+9\s+\d+s ago/m);
    assert.match(live.stdout, /^west\s+.*\s+n2\s+r2\s+not watched/m);
    const offline = await meshfed(['cluster', 'list', ...cfg, '--admin', '127.0.0.1:1']);
    assert.match(offline.stdout, /^east\s+.*unknown \(control plane not reachable at 127\.0\.0\.1:1\)/m);

    // remove: unknown name is an error; remove --purge deletes meshfed's identity in the cluster
    const unknown = await meshfed(['cluster', 'remove', 'mars', ...cfg]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no cluster named "mars" is registered \(registered: east, west\)/);
    // in west: a replica meshfed made (in a namespace it made) and a user's own Service and namespace
    const wc = west.makeApiClient(k8s.CoreV1Api);
    const mine = { 'app.kubernetes.io/managed-by': 'meshfed' };
    await wc.createNamespace({ body: { metadata: { name: 'shop', labels: mine } } });
    await wc.createNamespacedService({ namespace: 'shop', body: { metadata: { name: 'cart', labels: mine }, spec: { ports: [{ port: 80 }] } } });
    await wc.createNamespace({ body: { metadata: { name: 'team' } } });
    await wc.createNamespacedService({ namespace: 'team', body: { metadata: { name: 'own' }, spec: { ports: [{ port: 80 }] } } });
    const rm = await meshfed(['cluster', 'remove', 'west', '--purge', '--kubeconfig', westFile, ...cfg]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.deepEqual(await secretsOf(cp), ['meshfed-remote-east']);
    assert.deepEqual(await rbacOf(west), []);
    const westNs = (await wc.listNamespace()).items.map((n) => n.metadata!.name!);
    assert.ok(!westNs.includes('shop') && !westNs.includes('meshfed-system'), `purge leaves meshfed's namespaces: ${westNs.join(',')}`);
    assert.ok(westNs.includes('team'));
    assert.deepEqual((await wc.listServiceForAllNamespaces()).items.map((x) => `${x.metadata!.namespace}/${x.metadata!.name}`).filter((n) => !n.startsWith('default/')), ['team/own']);
    assert.equal((await meshfed(['cluster', 'remove', 'east', ...cfg])).code, 0);
    assert.deepEqual(await rbacOf(east), ['meshfed-reader'], 'without --purge the remote cluster is left as it is');
  } finally {
    fake.close();
    await Promise.all(servers.map((s) => s.close()));
  }
});
