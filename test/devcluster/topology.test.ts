import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseCidr, parseTopology, TopologyError, validateTopology } from '../../src/devcluster/topology.ts';

const playground = readFileSync(new URL('../../clusters/playground.yaml', import.meta.url), 'utf8');

function problems(doc: unknown): string[] {
  return validateTopology(doc).problems;
}

const base = () => ({
  controlPlane: 'a',
  failover: { r1: ['r2'] },
  clusters: [
    { name: 'a', region: 'r1', zones: ['z1'], network: 'n1', podCIDR: '127.1.0.0/16', serviceCIDR: '10.1.0.0/16' },
    { name: 'b', region: 'r2', zones: ['z2'], network: 'n2', podCIDR: '127.2.0.0/16', serviceCIDR: '10.2.0.0/16' },
  ],
  gateways: [{ network: 'n1', region: 'r1', cluster: 'a', address: '127.1.255.1' }],
});

test('the repository playground parses', () => {
  const t = parseTopology(playground, 'clusters/playground.yaml');
  assert.deepEqual(t.clusters.map((c) => c.name), ['east-1', 'east-2', 'west-1']);
  assert.equal(t.controlPlane, 'east-1');
  assert.deepEqual(t.failover['us-east'], ['us-west']);
  assert.equal(t.gateways.length, 2);
});

test('a valid topology has no problems', () => {
  assert.deepEqual(problems(base()), []);
});

test('each problem is one line naming the field', () => {
  const d = base();
  d.clusters[1].name = 'a';
  assert.deepEqual(problems(d), ['clusters: name "a" is used more than once']);
  const e = base();
  e.clusters[0].name = 'East_1';
  assert.ok(problems(e).some((l) => l.startsWith('clusters[0].name: "East_1" must be a lowercase DNS-1123 name')));
  const f = base() as Record<string, unknown>;
  (f.clusters as Array<Record<string, unknown>>)[1].zones = [];
  delete (f.clusters as Array<Record<string, unknown>>)[1].region;
  const pf = problems(f);
  assert.ok(pf.includes('clusters[1] (b).zones: at least one zone is required'), pf.join('\n'));
  assert.ok(pf.includes('clusters[1] (b).region: required string is missing'), pf.join('\n'));
  assert.deepEqual(problems({ clusters: [] }), ['clusters: at least one cluster is required']);
});

test('CIDRs must be valid and must not overlap across clusters (pod and service)', () => {
  const d = base();
  d.clusters[1].serviceCIDR = '127.1.128.0/17';
  assert.deepEqual(problems(d), ['clusters[1] (b).serviceCIDR: 127.1.128.0/17 overlaps clusters[0] (a).podCIDR 127.1.0.0/16']);
  const e = base();
  e.clusters[0].podCIDR = '127.1.0.1/16';
  e.clusters[1].podCIDR = '300.0.0.0/8';
  assert.deepEqual(problems(e), ['clusters[0] (a).podCIDR: "127.1.0.1/16" has host bits set', 'clusters[1] (b).podCIDR: "300.0.0.0" is not an IPv4 address']);
  assert.deepEqual(parseCidr('10.0.0.0/8'), { first: 10 * 2 ** 24, last: 11 * 2 ** 24 - 1 });
});

test('gateways and failover must reference known clusters, networks and regions', () => {
  const d = base();
  d.gateways[0] = { network: 'n9', region: 'r1', cluster: 'zz', address: 'x' };
  d.failover = { r1: ['r7'], r9: ['r1'] } as never;
  const p = problems(d);
  for (const want of [
    'gateways[0].cluster: "zz" is not a cluster in clusters',
    'gateways[0].network: "n9" is not the network of any cluster',
    'gateways[0].address: "x" is not an IPv4 address',
    'failover.r1[0]: region "r7" is not the region of any cluster',
    'failover.r9: region "r9" is not the region of any cluster',
  ]) assert.ok(p.includes(want), `missing "${want}" in:\n${p.join('\n')}`);
  const g = base();
  g.gateways[0].network = 'n2';
  assert.deepEqual(problems(g), ['gateways[0].network: cluster "a" is on network "n1", not "n2"']);
});

test('parseTopology throws a TopologyError naming the source', () => {
  assert.throws(() => parseTopology('clusters: [', 'bad.yaml'), (e: unknown) => e instanceof TopologyError && /^bad\.yaml: invalid topology:\n  - not valid YAML/.test(e.message));
  assert.throws(() => parseTopology('controlPlane: nope\nclusters: []', 'x.yaml'), /clusters: at least one cluster is required\n  - controlPlane: "nope" is not a cluster/);
});
