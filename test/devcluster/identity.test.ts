// A stand-in's identity across restarts and its kubeconfig: with --data-dir the serving CA, certificate and admin
// token stay, so a kubeconfig written before a restart keeps working; kubeconfigs merge into an existing file as YAML.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:https';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { standinTls } from '../../src/playground/standinTls.ts';
import { startSecureApiServer } from '../../src/devcluster/secure.ts';
import { mergeKubeconfig, writeMergedKubeconfig } from '../../src/devcluster/kubeconfig.ts';

function get(url: string, ca: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: new Agent({ ca, keepAlive: false }), headers: { authorization: `Bearer ${token}` } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('error', reject);
    req.end();
  });
}

test('with a data dir, the CA, certificate and admin token survive a restart: the old credentials still work', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshfed-identity-'));
  try {
    const first = await startSecureApiServer({ name: 'keep', tls: standinTls('keep', undefined, dir), dataDir: dir });
    const { ca, adminToken, port } = first;
    assert.equal(await get(`${first.url}/api`, ca, adminToken), 200);
    await first.close();
    assert.equal(statSync(join(dir, 'keep.admin-token')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'keep.tls.json')).mode & 0o777, 0o600);
    const second = await startSecureApiServer({ name: 'keep', tls: standinTls('keep', undefined, dir), dataDir: dir, port });
    try {
      assert.equal(second.ca, ca);
      assert.equal(second.adminToken, adminToken);
      assert.equal(await get(`${second.url}/api`, ca, adminToken), 200);
    } finally { await second.close(); }
    const fresh = await startSecureApiServer({ name: 'keep', tls: standinTls('keep') });
    assert.notEqual(fresh.adminToken, adminToken);
    assert.notEqual(fresh.ca, ca);
    await fresh.close();
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('kubeconfig: merged into an existing file as YAML, other contexts kept, the cluster replaced', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshfed-kubeconfig-'));
  try {
    const file = join(dir, 'config');
    writeFileSync(file, `apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster: { server: "https://prod.example:6443" }
- name: east
  cluster: { server: "https://127.0.0.1:1" }
users:
- name: me
  user: { token: mine }
contexts:
- name: prod
  context: { cluster: prod, user: me }
current-context: prod
`);
    writeMergedKubeconfig(file, [{ name: 'east', url: 'https://127.0.0.1:6443', ca: 'CA', adminToken: 'tok' }]);
    const text = readFileSync(file, 'utf8');
    assert.doesNotMatch(text.trim(), /^\{/); // YAML, not JSON
    const cfg = parseYaml(text) as { clusters: Array<{ name: string; cluster: { server: string } }>; contexts: Array<{ name: string }>; users: Array<{ name: string }>; 'current-context': string };
    assert.deepEqual(cfg.clusters.map((c) => `${c.name} ${c.cluster.server}`), ['prod https://prod.example:6443', 'east https://127.0.0.1:6443']);
    assert.deepEqual(cfg.contexts.map((c) => c.name), ['prod', 'east']);
    assert.deepEqual(cfg.users.map((u) => u.name), ['me', 'east-admin']);
    assert.equal(cfg['current-context'], 'east');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.throws(() => mergeKubeconfig('- just\n- a list\n', []), /not a YAML mapping/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
