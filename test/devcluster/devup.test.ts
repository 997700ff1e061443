import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { kubectl } from '../helpers/kubectl.ts';
import { MESHFED_BIN, meshfed } from '../helpers/meshfed.ts';

test('meshfed dev up starts the topology clusters; kubectl sees zone-labelled nodes; a second dev up says one is running', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshfed-devup-'));
  const kc = join(dir, 'kubeconfig');
  const child = spawn(process.execPath, [MESHFED_BIN, 'dev', 'up', '--kubeconfig-out', kc], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  try {
    const deadline = Date.now() + 90_000; // generous: a loaded CI machine starts node slowly
    while (!out.includes('Ctrl-C stops them')) {
      assert.ok(Date.now() < deadline, `dev up did not finish starting: ${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(out, /3\/3 clusters up/);
    const nodes = await kubectl(kc, ['--context', 'west-1', 'get', 'nodes', '-L', 'topology.kubernetes.io/zone', '--no-headers']);
    assert.equal(nodes.code, 0, nodes.stderr);
    assert.match(nodes.stdout, /west-1-us-west-1a\s.*us-west-1a/);
    assert.match(nodes.stdout, /west-1-us-west-1b\s.*us-west-1b/);
    const second = await meshfed(['dev', 'up', '--kubeconfig-out', join(dir, 'other')]);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /a playground is already running \(pid \d+/);
  } finally {
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
  }
});
