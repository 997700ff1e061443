// The shape of src/ as its imports draw it: no circles, nothing imports upward, the API stand-in is a leaf that
// product code never reaches, and files stay small. Each failure names the file, the import and its line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cycles, importGraph, importsOf, type ImportEdge } from './importGraph.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const graph = importGraph(ROOT);
const allEdges = (): ImportEdge[] => [...graph.edges.values()].flat();
const show = (e: ImportEdge): string => `${e.from}:${e.line} imports ${e.to}`;

/** The area of a file: its directory under src/, or the file itself for src/*.ts. */
const area = (file: string): string => file.split('/')[1]!.replace(/\.ts$/, '');

// Lower floors never import higher ones (same floor: allowed, as long as there is no circle).
const FLOORS: Record<string, number> = {
  log: 0, packagePaths: 0, grpc: 0,
  mesh: 1, observe: 1, xds: 1,
  kube: 2,
  devcluster: 3, ca: 3, policy: 3, federation: 3, demo: 3, admin: 3,
  // security: the rules (evaluated by the sidecar) and their xDS form (built for pilot) sit beside both
  pilot: 4, proxy: 4, security: 4,
  // deploy renders manifests for everything, CRDs of policy and security included
  controlplane: 5, deploy: 5,
  playground: 6,
  cli: 7,
};

// The only product files that may start the stand-in or the playground (`meshfed dev …`).
const MAY_USE_STANDIN = (file: string): boolean =>
  file.startsWith('src/devcluster/') || file.startsWith('src/playground/') || file === 'src/cli/commands/dev.ts';

// Files over the size limit that another change is splitting; each entry says who and why.
const MAX_LINES = 400;
const OVERSIZED_FOR_NOW: Record<string, string> = {};

test('the import parser reads every import statement of src/ and every relative import names a file', () => {
  assert.ok(graph.files.length > 100, `only ${graph.files.length} files found under src/`);
  assert.deepEqual(graph.unparsed.map((u) => `${u.file}:${u.line}: ${u.text}`), [], 'import statements the parser did not understand');
  assert.deepEqual(graph.unresolved.map(show), [], 'imports of files that do not exist');
});

test('the parser sees static, type-only, re-export, multi-line, side-effect and dynamic imports', () => {
  const src = [
    "import a from './a.ts';",
    "import type { B } from '../b.ts';",
    'import {',
    '  c,',
    '  type D,',
    "} from './c.ts';",
    "export { e } from './e.ts';",
    "export type * from './f.ts';",
    "import './g.ts';",
    "const h = await import('./h.ts');",
    "type I = import('./i.ts').I;",
    "import { x } from 'node:fs';",
  ].join('\n');
  const r = importsOf(src);
  assert.deepEqual(r.specs.map((s) => s.spec), ['./a.ts', '../b.ts', './c.ts', './e.ts', './f.ts', './g.ts', './h.ts', './i.ts', 'node:fs']);
  assert.deepEqual(r.unparsed, []);
  // a statement the patterns cannot read is reported, not silently skipped
  assert.equal(importsOf("import { a, // note\n b } from './a.ts';").unparsed.length, 1);
});

test('cycles() finds a circle and names it as a path', () => {
  const e = (from: string, to: string): ImportEdge => ({ from, to, line: 1 });
  const g = new Map([['a', [e('a', 'b')]], ['b', [e('b', 'c')]], ['c', [e('c', 'a'), e('c', 'd')]], ['d', []]]);
  assert.deepEqual(cycles(g), [['a', 'b', 'c', 'a']]);
  g.set('c', [e('c', 'd')]);
  assert.deepEqual(cycles(g), []);
});

test('there are no import circles in src/ (type-only imports included)', () => {
  const found = cycles(graph.edges);
  assert.deepEqual(found.map((c) => c.join(' -> ')), [], 'import circles');
});

test('no file imports a higher floor (log, packagePaths < mesh/observe/xds < kube < stand-in, ca, policy, federation… < pilot, proxy, security < controlplane, deploy < playground < cli)', () => {
  const unknown = [...new Set(graph.files.map(area))].filter((a) => !(a in FLOORS));
  assert.deepEqual(unknown, [], 'areas of src/ missing from FLOORS in this test: give each a floor');
  const upward = allEdges().filter((e) => FLOORS[area(e.to)]! > FLOORS[area(e.from)]!);
  assert.deepEqual(upward.map((e) => `${show(e)} (floor ${FLOORS[area(e.from)]} → ${FLOORS[area(e.to)]})`), [], 'upward imports');
});

test('the API stand-in (src/devcluster) imports nothing of the project but src/devcluster, src/mesh and src/kube', () => {
  const outward = allEdges().filter((e) => e.from.startsWith('src/devcluster/') && !/^src\/(devcluster|mesh|kube)\//.test(e.to));
  assert.deepEqual(outward.map(show), [], 'stand-in imports outside devcluster|mesh|kube');
  const forge = graph.files.filter((f) => f.startsWith('src/devcluster/') && importsOf(readFileSync(ROOT + f, 'utf8')).specs.some((s) => s.spec === 'node-forge'));
  assert.deepEqual(forge, [], 'the stand-in builds no certificates: its caller gives it its TLS');
});

test('product code never imports the stand-in or the playground (only they and `meshfed dev` do)', () => {
  const bad = allEdges().filter((e) => /^src\/(devcluster|playground)\//.test(e.to) && !MAY_USE_STANDIN(e.from));
  assert.deepEqual(bad.map(show), [], 'product code importing src/devcluster or src/playground');
});

test(`no file of src/ is over ${MAX_LINES} lines`, () => {
  const lines = (f: string): number => readFileSync(ROOT + f, 'utf8').replace(/\n$/, '').split('\n').length;
  const over = graph.files.filter((f) => !(f in OVERSIZED_FOR_NOW) && lines(f) > MAX_LINES);
  assert.deepEqual(over.map((f) => `${f}: ${lines(f)} lines`), [], `files over ${MAX_LINES} lines: split them by what they hold`);
  const stale = Object.keys(OVERSIZED_FOR_NOW).filter((f) => !graph.files.includes(f) || lines(f) <= MAX_LINES);
  assert.deepEqual(stale, [], 'exceptions no longer needed: remove them from OVERSIZED_FOR_NOW');
});
