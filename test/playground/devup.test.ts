// `meshfed dev up` (= npm start) as a user runs it: the whole local mesh from clusters/playground.yaml, then
// kubectl, `dev call`, `dev failover` / `dev restore`, and a second `dev up` that says one is running.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KUBECTL_MISSING, kubectl } from '../helpers/kubectl.ts';
import { meshfed } from '../helpers/meshfed.ts';
import { startDevUp } from './fixtures/devUp.ts';

test('meshfed dev up: clusters, control plane, gateways and meshed echo; kubectl sees replicated services; dev call / failover / restore', { timeout: 300_000, skip: KUBECTL_MISSING }, async () => {
  const up = await startDevUp('meshfed-devup-');
  const { stateArgs } = up;
  const out = up.out();
  try {
    // progress, then the summary
    assert.match(out, /registered east-2 .* registered west-1/s);
    assert.match(out, /3\/3 clusters synced/);
    assert.match(out, /dashboard: http:\/\/127\.0\.0\.1:\d+\//);
    const kc = up.kubeconfig;

    // echo.demo exists in every cluster (native where it runs; the west cluster also resolves the name)
    const svcs = await kubectl(kc, ['--context', 'west-1', 'get', 'svc', '-n', 'demo', '--no-headers']);
    assert.equal(svcs.code, 0, svcs.stderr);
    assert.match(svcs.stdout, /^echo\s+ClusterIP\s+10\.103\./m);

    const call = await meshfed(['dev', 'call', 'echo', '--from', 'east-1', ...stateArgs]);
    assert.equal(call.code, 0, call.stderr);
    assert.match(call.stdout, /answered by echo-us-east-1[abc] in cluster east-[12] \(region us-east/);
    assert.match(call.stdout, /caller spiffe:\/\/cluster\.local\/ns\/demo\/sa\/sleep/);

    const down = await meshfed(['dev', 'failover', '--region', 'us-east', ...stateArgs]);
    assert.equal(down.code, 0, down.stderr);
    const remote = await meshfed(['dev', 'call', 'echo', '--from', 'east-1', ...stateArgs]);
    assert.equal(remote.code, 0, remote.stderr);
    assert.match(remote.stdout, /in cluster west-1 \(region us-west/);
    const again = await meshfed(['dev', 'failover', '--region', 'us-east', ...stateArgs]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already down/);

    const restored = await meshfed(['dev', 'restore', '--region', 'us-east', ...stateArgs]);
    assert.equal(restored.code, 0, restored.stderr);
    let local = '';
    for (let i = 0; i < 50 && !/region us-east/.test(local); i++) {
      local = (await meshfed(['dev', 'call', 'echo', '--from', 'east-1', ...stateArgs])).stdout;
      if (!/region us-east/.test(local)) await new Promise((r) => setTimeout(r, 500));
    }
    assert.match(local, /region us-east/, 'traffic did not come back to us-east after the restore');

    const bad = await meshfed(['dev', 'failover', '--region', 'mars', ...stateArgs]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /no region "mars" in the playground \(regions: us-east, us-west\)/);

    const second = await meshfed(['dev', 'up', ...stateArgs]);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /a playground is already running \(pid \d+/);
  } finally {
    await up.stop();
  }
  const gone = await meshfed(['dev', 'call', 'echo', ...stateArgs]);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /no playground is running/);
});
