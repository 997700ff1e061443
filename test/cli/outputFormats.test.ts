// Every read command prints the same data as -o json and -o yaml, parseable by any JSON/YAML reader (kubectl's manners):
// version, ca inspect, status, cluster list and proxy-config, each run as a user would (the CLI as a process).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { startAdminServer, type AdminServer } from '../../src/admin/server.ts';
import { Pilot } from '../../src/pilot/server.ts';
import { emptySnapshot } from '../../src/mesh/types.ts';
import { startSecureApiServer, type SecureServer } from '../../src/devcluster/secure.ts';
import { kubeconfigFor } from '../../src/devcluster/server.ts';
import { standinTls } from '../../src/playground/standinTls.ts';
import { MemorySources } from '../admin/fixtures.ts';
import { meshCa } from '../helpers/tlsCerts.ts';
import { meshfed } from '../helpers/meshfed.ts';

let admin: AdminServer;
let pilot: Pilot;
let standin: SecureServer;
const dir = mkdtempSync(join(tmpdir(), 'meshfed-output-'));

before(async () => {
  admin = await startAdminServer(new MemorySources(), { port: 0, host: '127.0.0.1' });
  pilot = new Pilot({ port: 0, host: '127.0.0.1', debounceMs: 1 });
  await pilot.start();
  pilot.setSnapshot(emptySnapshot({ version: 1, builtAt: new Date().toISOString() }));
  standin = await startSecureApiServer({ name: 'cp', tls: standinTls('cp') });
  writeFileSync(join(dir, 'kubeconfig'), kubeconfigFor([standin]));
  writeFileSync(join(dir, 'cert.pem'), meshCa().leaf('spiffe://cluster.local/ns/demo/sa/a').cert);
});
after(async () => { await admin.close(); await pilot.stop(); await standin.close(); });

const READS: Array<{ name: string; args: () => string[]; check: (data: unknown) => void }> = [
  { name: 'version', args: () => ['version'], check: (d) => assert.match((d as { meshfed: string }).meshfed, /^\d+\.\d+\.\d+/) },
  { name: 'ca inspect', args: () => ['ca', 'inspect', join(dir, 'cert.pem')], check: (d) => assert.ok(JSON.stringify(d).includes('spiffe://cluster.local/ns/demo/sa/a')) },
  { name: 'status', args: () => ['status', '--admin', `127.0.0.1:${admin.port}`], check: (d) => assert.ok(Array.isArray((d as { clusters: unknown[] }).clusters) && (d as { clusters: unknown[] }).clusters.length > 0) },
  { name: 'cluster list', args: () => ['cluster', 'list', '--config-kubeconfig', join(dir, 'kubeconfig'), '--admin', `127.0.0.1:${admin.port}`], check: (d) => assert.ok(Array.isArray(d)) },
  { name: 'proxy-config', args: () => ['proxy-config', '--xds', `127.0.0.1:${pilot.port}`, '--node-id', 'sidecar~127.0.0.9~a.demo~demo.svc.cluster.local', '--role', 'sidecar', '--cluster', 'c1', '--network', 'n1'], check: (d) => assert.ok(Array.isArray((d as { clusters: unknown[] }).clusters)) },
];

for (const r of READS) {
  test(`${r.name}: -o json and -o yaml print the same data; -o table is for people; -o xml is a usage error`, { timeout: 60_000 }, async () => {
    const json = await meshfed([...r.args(), '-o', 'json']);
    assert.equal(json.code, 0, json.stderr);
    const fromJson = JSON.parse(json.stdout) as unknown;
    r.check(fromJson);
    const yaml = await meshfed([...r.args(), '-o', 'yaml']);
    assert.equal(yaml.code, 0, yaml.stderr);
    const fromYaml = parse(yaml.stdout) as unknown;
    r.check(fromYaml);
    if (r.name !== 'status' && r.name !== 'cluster list') assert.deepEqual(fromYaml, fromJson); // the live views carry ages that move between runs
    const table = await meshfed([...r.args(), '-o', 'table']);
    assert.equal(table.code, 0, table.stderr);
    assert.throws(() => JSON.parse(table.stdout), 'the table is not JSON');
    const bad = await meshfed([...r.args(), '-o', 'xml']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /-o must be table, json or yaml/);
  });
}

test('proxy-config with no flags lists the connected proxies from the admin server; a POD picks one and asks pilot as that node', { timeout: 60_000 }, async () => {
  const list = await meshfed(['proxy-config', '--admin', `127.0.0.1:${admin.port}`, '--xds', `127.0.0.1:${pilot.port}`]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^POD\s+ROLE\s+CLUSTER\s+NETWORK\s+NODE ID$/m);
  assert.match(list.stdout, /^reviews-v1\s+sidecar\s+east-1\s+net-east\s+sidecar~10\.1\.0\.1~reviews-v1\.bookinfo/m);
  const one = await meshfed(['proxy-config', 'reviews-v1', '--admin', `127.0.0.1:${admin.port}`, '--xds', `127.0.0.1:${pilot.port}`]);
  assert.equal(one.code, 0, one.stderr);
  const dump = JSON.parse(one.stdout) as { node: { id: string; metadata: Record<string, string> } };
  assert.equal(dump.node.id, 'sidecar~10.1.0.1~reviews-v1.bookinfo~bookinfo.svc.cluster.local');
  assert.equal(dump.node.metadata.MESHFED_ROLE, 'sidecar');
  const none = await meshfed(['proxy-config', 'ratings', '--admin', `127.0.0.1:${admin.port}`, '--xds', `127.0.0.1:${pilot.port}`]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no connected proxy matches "ratings"/);
  const down = await meshfed(['proxy-config', '--admin', '127.0.0.1:1']);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /start the control plane or the playground/);
});
