// What each role loads, read from the shipped bundle's own graph (esbuild's metafile, same options as `npm run build`):
// the sidecar and the gateway load the proxy, the xDS and CA clients, TLS and HTTP, and never the Kubernetes client,
// the control plane, the API stand-in or the policy parser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as esbuild from 'esbuild';
import { buildOptions } from '../../scripts/build.mjs';

type Meta = esbuild.Metafile;

/** inputs of the outputs a process loads before its first lazy import: the entry and its static imports */
function staticInputs(meta: Meta, entries: string[]): Set<string> {
  const byName = meta.outputs;
  const start = Object.keys(byName).filter((o) => entries.includes(byName[o]!.entryPoint ?? ''));
  assert.equal(start.length, entries.length, `no output for ${entries.join(', ')}`);
  const seen = new Set<string>();
  const todo = [...start];
  while (todo.length > 0) {
    const o = todo.pop()!;
    if (seen.has(o)) continue;
    seen.add(o);
    for (const i of byName[o]!.imports) if (i.kind === 'import-statement' && byName[i.path]) todo.push(i.path);
  }
  const inputs = new Set<string>();
  for (const o of seen) {
    for (const i of Object.keys(byName[o]!.inputs)) inputs.add(i);
    for (const i of byName[o]!.imports) if (i.external) inputs.add(i.path);
  }
  return inputs;
}

// grpc-js is the control plane's server; the proxies' clients speak gRPC through src/grpc (~8 MB less RSS)
const FORBIDDEN = [/@grpc\/grpc-js\//, /@grpc\/proto-loader\//, /@kubernetes\/client-node/, /^src\/devcluster\//, /^src\/playground\//, /^src\/controlplane\//, /^src\/federation\//, /^src\/pilot\//, /^src\/policy\//, /node_modules\/yaml\//, /node_modules\/node-forge\//];

const meta = (await esbuild.build({ ...buildOptions, write: false, logLevel: 'silent' })).metafile;
// the CLI entry and the command area are loaded for every command; the role's runner is what `run` imports
const cli = 'src/cli/bin.ts';
const proxyArea = 'src/cli/commands/proxy.ts';

for (const [role, runner] of [['sidecar', 'src/proxy/runSidecar.ts'], ['gateway', 'src/proxy/runGateway.ts']] as const) {
  test(`meshfed ${role} loads no Kubernetes client, control plane, stand-in or policy parser`, () => {
    const inputs = staticInputs(meta, [cli, proxyArea, runner]);
    assert.ok([...inputs].some((i) => i.startsWith('src/proxy/')), 'the proxy itself is in the graph');
    assert.ok(inputs.has('src/xds/adsClient.ts') && inputs.has('src/grpc/client.ts'), 'the xDS client and its gRPC transport are in the graph');
    const bad = [...inputs].filter((i) => FORBIDDEN.some((f) => f.test(i)));
    assert.deepEqual(bad, [], `${role} loads modules it does not use`);
  });
}

test('the control plane command does load the Kubernetes client (the check above can see it)', () => {
  const inputs = staticInputs(meta, [cli, 'src/cli/commands/controlPlane.ts', 'src/controlplane/controlPlane.ts']);
  assert.ok([...inputs].some((i) => /@kubernetes\/client-node/.test(i)));
  assert.ok([...inputs].some((i) => i.startsWith('src/federation/')));
  assert.ok([...inputs].some((i) => i.includes('@grpc/grpc-js/')), 'and grpc-js, which the proxies must not');
});

test('the CLI entry alone loads no command area: `meshfed version` pays for nothing else', () => {
  const inputs = [...staticInputs(meta, [cli])].filter((i) => i.startsWith('src/'));
  assert.deepEqual(inputs.filter((i) => !/^src\/(cli\/(bin|main|command|help)\.ts|cli\/commands\/index\.ts)$/.test(i)), []);
});
