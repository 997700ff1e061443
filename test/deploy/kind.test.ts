import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { kindConfigFile, type KindTopology } from '../../src/deploy/kind.ts';
import { renderedDeployFiles } from '../../src/deploy/rendered.ts';
import { meshfed } from '../helpers/meshfed.ts';

const root = new URL('../../', import.meta.url);
const topology = parse(readFileSync(new URL('clusters/playground.yaml', root), 'utf8')) as KindTopology & { clusters: Array<{ name: string; region: string; zones: string[]; network: string; serviceCIDR: string; kindPodSubnet: string }> };

test('kind-configs/ agree with the topology file (regenerate with "meshfed kind configs")', () => {
  for (const c of topology.clusters) {
    const committed = readFileSync(new URL(`kind-configs/${c.name}.yaml`, root), 'utf8');
    assert.equal(committed, kindConfigFile(c), `kind-configs/${c.name}.yaml is out of date`);
    const cfg = parse(committed) as { name: string; networking: { podSubnet: string; serviceSubnet: string }; nodes: Array<{ labels: Record<string, string> }> };
    assert.equal(cfg.name, c.name);
    assert.equal(cfg.networking.podSubnet, c.kindPodSubnet);
    assert.equal(cfg.networking.serviceSubnet, c.serviceCIDR);
    const zones = new Set(cfg.nodes.map((n) => n.labels['topology.kubernetes.io/zone']));
    assert.deepEqual([...zones].sort(), [...c.zones].sort(), 'every zone of the topology has a node');
    for (const n of cfg.nodes) {
      assert.equal(n.labels['topology.kubernetes.io/region'], c.region);
      assert.equal(n.labels['topology.istio.io/network'], c.network);
    }
  }
});

test('deploy/*.yaml are the rendered manifests (regenerate with scripts/render-deploy.ts)', () => {
  for (const [name, text] of Object.entries(renderedDeployFiles())) {
    assert.equal(readFileSync(new URL(`deploy/${name}`, root), 'utf8'), text, `deploy/${name} is out of date`);
  }
});

test('meshfed kind up --dry-run prints the whole plan: clusters, install, registration, gateways, demo', async () => {
  const r = await meshfed(['kind', 'up', '--dry-run']);
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout;
  for (const c of topology.clusters) {
    assert.match(out, new RegExp(`kind create cluster --name ${c.name} --config kind-configs/${c.name}.yaml`));
    assert.match(out, new RegExp(`meshfed cluster add --kubeconfig \\S+/${c.name}\\.internal\\.kubeconfig --name ${c.name} --network ${c.network} --region ${c.region}`));
    assert.match(out, new RegExp(`# \\d+\\. deploy the echo demo in ${c.name}\\nkubectl --context kind-${c.name} apply --server-side`));
  }
  for (const g of topology.gateways) {
    assert.match(out, new RegExp(`install the east-west gateway of ${g.network} \\(${g.region}\\) in ${g.cluster}`));
  }
  // the control plane goes in before anything registers with it
  assert.ok(out.indexOf(`install the control plane in ${topology.controlPlane}`) < out.indexOf('meshfed cluster add'));
  assert.match(out, /kind: Deployment\n\s*metadata:\n\s*name: meshfed-control-plane/);
});

test('meshfed kind up with a broken topology file fails with one clear line', async () => {
  const r = await meshfed(['kind', 'up', '--dry-run', '--topology', '/nonexistent/topology.yaml']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot read topology \/nonexistent\/topology.yaml/);
});
