import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ipInCidr, parseTopology, TopologyError } from '../../src/mesh/topology.ts';

const playground = readFileSync(new URL('../../clusters/playground.yaml', import.meta.url), 'utf8');

test('the playground topology is valid: ≥3 clusters, 2 regions, 2 networks', () => {
  const t = parseTopology(playground);
  assert.ok(t.clusters.length >= 3);
  assert.equal(new Set(t.clusters.map((c) => c.region)).size, 2);
  assert.equal(new Set(t.clusters.map((c) => c.network)).size, 2);
  assert.ok(t.clusters.some((c) => c.name === t.controlPlane));
  for (const g of t.gateways) {
    const c = t.clusters.find((x) => x.name === g.cluster)!;
    assert.ok(ipInCidr(g.address, c.podCIDR), `gateway ${g.address} listens inside ${c.name}'s loopback range`);
  }
});

test('duplicate names and overlapping CIDRs are rejected, each on its own line', () => {
  const bad = playground.replace('name: east-2', 'name: east-1').replace('podCIDR: 127.3.0.0/16', 'podCIDR: 127.1.128.0/17');
  assert.throws(() => parseTopology(bad, 'bad.yaml'), (e: unknown) => {
    assert.ok(e instanceof TopologyError);
    assert.match(e.message, /^bad\.yaml: \d+ problems:/);
    assert.match(e.message, /\n  clusters: duplicate cluster name "east-1"/);
    assert.match(e.message, /\n  CIDRs overlap: east-1\.podCIDR 127\.1\.0\.0\/16 and west-1\.podCIDR 127\.1\.128\.0\/17/);
    return true;
  });
});

test('unknown references and malformed values name the field', () => {
  const bad = playground.replace('controlPlane: east-1', 'controlPlane: nowhere').replace('serviceCIDR: 10.102.0.0/16', 'serviceCIDR: 10.102.0.0/40').replace('us-east: [us-west]', 'us-east: [eu-north]');
  assert.throws(() => parseTopology(bad), (e: unknown) => {
    const msg = (e as Error).message;
    assert.match(msg, /\n  controlPlane: "nowhere" is not one of the clusters/);
    assert.match(msg, /\n  clusters\[1\]\.serviceCIDR: "10\.102\.0\.0\/40" is not an IPv4 CIDR/);
    assert.match(msg, /\n  failover\.us-east: no cluster is in region "eu-north"/);
    return true;
  });
  assert.throws(() => parseTopology('clusters: [unclosed'), /not valid YAML/);
});
