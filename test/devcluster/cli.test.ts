// `meshfed dev clusters up` / `dev apiserver` started as processes: the kubeconfig they write works with kubectl.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KUBECTL_MISSING, kubectl } from '../helpers/kubectl.ts';
import { MESHFED_BIN } from '../helpers/meshfed.ts';

function startCli(args: string[], readyLine: RegExp): Promise<{ child: ChildProcess; out: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [MESHFED_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`CLI not ready in 90 s; stdout:\n${out}\nstderr:\n${err}`)); }, 90_000); // generous: a loaded machine starts node slowly
    child.stdout!.on('data', (c) => {
      out += c;
      if (readyLine.test(out)) { clearTimeout(timer); resolve({ child, out: () => out, exited }); }
    });
    child.stderr!.on('data', (c) => (err += c));
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`CLI exited with ${code} before ready; stdout:\n${out}\nstderr:\n${err}`)); });
  });
}

test('dev clusters up: one kubeconfig with a context per cluster, nodes labelled with locality, Ctrl-C stops it', { skip: KUBECTL_MISSING }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshfed-dev-'));
  const kc = join(dir, 'kubeconfig');
  const p = await startCli(['dev', 'clusters', 'up', '--topology', 'clusters/playground.yaml', '--kubeconfig-out', kc], /Ctrl-C stops them/);
  try {
    assert.match(p.out(), new RegExp(`kubeconfig: ${kc}`));
    const ctx = await kubectl(kc, ['config', 'get-contexts', '-o', 'name']);
    assert.deepEqual(ctx.stdout.trim().split('\n').sort(), ['east-1', 'east-2', 'west-1']);
    const nodes = await kubectl(kc, ['--context', 'west-1', 'get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.metadata.labels.topology\\.kubernetes\\.io/zone} {.metadata.labels.topology\\.istio\\.io/network}{"\\n"}{end}']);
    assert.equal(nodes.code, 0, nodes.stderr);
    assert.deepEqual(nodes.stdout.trim().split('\n').sort(), ['west-1-us-west-1a us-west-1a net-west', 'west-1-us-west-1b us-west-1b net-west']);
    const ks = await kubectl(kc, ['--context', 'east-2', 'get', 'namespace', 'kube-system', '-o', 'jsonpath={.metadata.labels.topology\\.istio\\.io/network}']);
    assert.equal(ks.stdout, 'net-east');
    const can = await kubectl(kc, ['--context', 'east-1', 'auth', 'can-i', 'delete', 'nodes']);
    assert.equal(can.stdout.trim(), 'yes', can.stderr);
  } finally {
    p.child.kill('SIGINT');
    assert.equal(await p.exited, 0);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dev apiserver: kubeconfig works, ServiceAccount token via TokenRequest is denied by RBAC', { skip: KUBECTL_MISSING }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshfed-dev-'));
  const kc = join(dir, 'one.kubeconfig');
  const p = await startCli(['dev', 'apiserver', '--name', 'solo', '--kubeconfig-out', kc], /try: kubectl/);
  try {
    assert.match(p.out(), /cluster solo listening on https:\/\/127\.0\.0\.1:\d+/);
    const sa = await kubectl(kc, ['create', 'serviceaccount', 'bot']);
    assert.equal(sa.code, 0, sa.stderr);
    // kubectl 1.20 has no `create token`: call the TokenRequest API through `create --raw`
    const tr = await kubectl(kc, ['create', '--raw', '/api/v1/namespaces/default/serviceaccounts/bot/token', '-f', '-'],
      JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } }));
    assert.equal(tr.code, 0, tr.stderr);
    const token = JSON.parse(tr.stdout).status.token as string;
    const asBot = ['--token', token];
    const can = await kubectl(kc, [...asBot, 'auth', 'can-i', 'list', 'pods']);
    assert.equal(can.stdout.trim(), 'no');
    const get = await kubectl(kc, [...asBot, 'get', 'pods']);
    assert.notEqual(get.code, 0);
    assert.match(get.stderr, /pods is forbidden: User "system:serviceaccount:default:bot" cannot list resource "pods" in API group "" in the namespace "default"/);
    const bad = await kubectl(kc, ['--token', 'garbage', 'get', 'pods']);
    assert.equal(bad.stderr.trim(), "error: You must be logged in to the server (Unauthorized)");
  } finally {
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0);
    rmSync(dir, { recursive: true, force: true });
  }
});
