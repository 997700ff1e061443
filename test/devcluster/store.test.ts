import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../src/devcluster/store.ts';
import { parseSelector, matches } from '../../src/devcluster/selectors.ts';
import { mergePatch, jsonPatch, strategicMergePatch } from '../../src/devcluster/patch.ts';
import { parseResourcePath } from '../../src/devcluster/http/route.ts';
import type { KubeObject } from '../../src/devcluster/types.ts';
import { ApiError } from '../../src/devcluster/errors.ts';

const cm = (name: string, labels: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels } });

test('persistence: objects, resourceVersion and held ClusterIPs survive a restart; the file is replaced atomically', () => {
  const dir = mkdtempSync(join(tmpdir(), 'devcluster-'));
  try {
    const a = new Store('east', { dataDir: dir, serviceCidr: '10.1.0.0/28' });
    const cms = a.info('', 'configmaps');
    const svcs = a.info('', 'services');
    a.create(cms, 'default', cm('kept'));
    const svc = a.create(svcs, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 80 }] } });
    const rv = Number(a.currentResourceVersion());
    a.close();
    assert.deepEqual(readdirSync(dir), ['east.json']);
    const b = new Store('east', { dataDir: dir, serviceCidr: '10.1.0.0/28' });
    assert.equal(b.get(cms, 'default', 'kept').metadata.name, 'kept');
    const ips = new Set<string>([String((svc.spec as { clusterIP: string }).clusterIP)]);
    for (let i = 0; i < 5; i++) {
      const s = b.create(svcs, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: `t${i}` }, spec: { ports: [{ port: 80 }] } });
      const ip = String((s.spec as { clusterIP: string }).clusterIP);
      assert.ok(!ips.has(ip), `ClusterIP ${ip} handed out twice`);
      ips.add(ip);
    }
    assert.ok(Number(b.currentResourceVersion()) > rv);
    b.close();
    writeFileSync(join(dir, 'east.json'), '{not json');
    assert.throws(() => new Store('east', { dataDir: dir }), /east\.json/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('in-process watch: history replay, 410 after compaction, selector transitions', () => {
  const s = new Store('w', { historySize: 3 });
  const cms = s.info('', 'configmaps');
  const start = s.currentResourceVersion();
  for (const n of ['a', 'b', 'c', 'd']) s.create(cms, 'default', cm(n));
  assert.throws(() => s.watch(cms, 'default', { resourceVersion: start }, () => {}), (e: unknown) => e instanceof ApiError && e.code === 410);
  const seen: string[] = [];
  const stop = s.watch(cms, 'default', { resourceVersion: s.currentResourceVersion(), labelSelector: 'on=yes' }, (e) => seen.push(`${e.type}:${(e.object as KubeObject).metadata.name}`));
  s.mutate(cms, 'default', 'a', (o) => ({ ...o, metadata: { ...o.metadata, labels: { on: 'yes' } } }));
  s.mutate(cms, 'default', 'a', (o) => ({ ...o, metadata: { ...o.metadata, labels: { on: 'no' } } }));
  s.delete(cms, 'default', 'b');
  stop();
  s.create(cms, 'default', cm('e', { on: 'yes' }));
  assert.deepEqual(seen, ['ADDED:a', 'DELETED:a']);
});

test('label selector parsing and matching', () => {
  const m = (sel: string, labels: Record<string, string>) => matches(parseSelector(sel), labels);
  assert.equal(m('a=1,b==2', { a: '1', b: '2' }), true);
  assert.equal(m('a!=1', {}), true);
  assert.equal(m('a in (1, 2)', { a: '2' }), true);
  assert.equal(m('a notin (1,2)', { a: '2' }), false);
  assert.equal(m('a,!b', { a: 'x' }), true);
  assert.equal(m('a,!b', { a: 'x', b: 'y' }), false);
  assert.throws(() => parseSelector('a in b'), /unable to parse/);
});

test('patch algorithms', () => {
  assert.deepEqual(mergePatch({ a: 1, b: { c: 2, d: 3 } }, { b: { c: null, e: 4 } }), { a: 1, b: { d: 3, e: 4 } });
  assert.deepEqual(jsonPatch({ l: [1, 2] }, [{ op: 'add', path: '/l/-', value: 3 }, { op: 'move', from: '/l/0', path: '/first' }]), { l: [2, 3], first: 1 });
  assert.throws(() => jsonPatch({}, [{ op: 'remove', path: '/nope' }]), /does not exist/);
  assert.deepEqual(
    strategicMergePatch({ spec: { ports: [{ port: 80, name: 'a' }], selector: { x: '1' } } }, { spec: { ports: [{ port: 80, name: 'b' }, { port: 81 }], selector: { $patch: 'replace', y: '2' } } }),
    { spec: { ports: [{ port: 80, name: 'b' }, { port: 81 }], selector: { y: '2' } } },
  );
});

test('resource URL parsing', () => {
  assert.deepEqual(parseResourcePath('/api/v1/namespaces/x/pods/p/status'), { group: '', version: 'v1', namespace: 'x', plural: 'pods', name: 'p', subresource: 'status' });
  assert.deepEqual(parseResourcePath('/api/v1/namespaces/x'), { group: '', version: 'v1', namespace: '', plural: 'namespaces', name: 'x', subresource: '' });
  assert.deepEqual(parseResourcePath('/api/v1/namespaces/x/status'), { group: '', version: 'v1', namespace: '', plural: 'namespaces', name: 'x', subresource: 'status' });
  assert.deepEqual(parseResourcePath('/apis/rbac.authorization.k8s.io/v1/clusterroles'), { group: 'rbac.authorization.k8s.io', version: 'v1', namespace: '', plural: 'clusterroles', name: '', subresource: '' });
  assert.equal(parseResourcePath('/apis/g'), undefined);
});
