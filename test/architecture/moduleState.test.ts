// No module-level mutable state in src/: state belongs to an instance (a Federation, a Pilot, a Replicator…), so two
// control planes in one process (an HA test, the playground) never see, or keep alive, each other's objects.
// The scan flags, in every src/**/*.ts:
//   - a top-level `let` or `var`;
//   - a top-level (or class `static`) `const` holding a container — `new Map/Set/WeakMap/WeakSet/Array(…)`, an
//     array or object literal — that is empty (it exists to be filled) or is written somewhere (`.set(`, `.add(`,
//     `.push(`, `x[k] =`, `x.k =` …), unless its declared type is read-only (ReadonlySet, ReadonlyMap, readonly T[]).
// Truly constant or harmless cases are listed in ALLOWED below, each with its reason. Keep the list short: prefer
// moving the state into the instance that uses it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;

/** file → names allowed at module level, and why. */
const ALLOWED: Readonly<Record<string, { names: readonly string[]; reason: string }>> = {
  'src/ca/x509.ts': {
    names: ['pool', 'poolOff', 'leafExtsDer', 'algCache', 'akiCache'],
    reason: 'a pool of CSPRNG bytes (sharing random bytes between callers reveals and changes nothing) and memos of pure functions of an immutable key (the same answer for every caller)',
  },
  'src/ca/der.ts': { names: ['oidCache', 'pemRe'], reason: 'memos of pure functions of a string (an OID encoding, a PEM regex): the same answer for every caller' },
  'src/kube/keepAlive.ts': { names: ['patched'], reason: 'marks KubeConfig objects whose agent factory is patched: a fact about that object, weakly held, the same for every user of it' },
  'src/proxy/gatewayMetrics.ts': { names: ['scrapeHooks'], reason: 'keyed by the prom-client Registry, weakly: each registry (one per component instance) has its own hooks' },
};

const CONTAINER = /^(new\s+(Map|Set|WeakMap|WeakSet|Array)\b|\[|\{)/;
const EMPTY = /^(new\s+(Map|Set|WeakMap|WeakSet|Array)\s*(<[^=]*>)?\s*\(\s*\)|\[\s*\]|\{\s*\})\s*(as\s+\w+)?\s*;?\s*$/;
const READONLY_TYPE = /^\s*(Readonly\w*<|readonly\s)/;

export interface Finding { file: string; line: number; name: string; why: string }

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

const escape = (s: string) => s.replace(/[$]/g, '\\$');

/** Is `name` written to (mutated in place or its properties assigned) anywhere in `text`? */
function written(name: string, text: string): boolean {
  const n = escape(name);
  const call = new RegExp(`(^|[^\\w$.])${n}\\s*\\.\\s*(set|add|delete|clear|push|pop|shift|unshift|splice|sort|reverse|fill|copyWithin)\\s*\\(`, 'm');
  const assign = new RegExp(`(^|[^\\w$.])${n}\\s*(\\[[^\\]]*\\]|\\.\\s*[\\w$]+)\\s*([-+*/%|&^]|\\?\\?|\\|\\||&&)?=(?!=)`, 'm');
  return call.test(text) || assign.test(text);
}

/** Module-level (and class-static) mutable state declared in one file's text. `others`: texts that import from it. */
export function scan(file: string, text: string, importers: readonly string[] = []): Finding[] {
  const out: Finding[] = [];
  const lines = text.split('\n');
  lines.forEach((l, i) => {
    const top = /^(?:export\s+)?(let|var)\s+([\w$]+)/.exec(l);
    if (top) { out.push({ file, line: i + 1, name: top[2]!, why: `top-level ${top[1]}` }); return; }
    const decl = /^(?:(export\s+)?const\s+|\s+(?:(?:private|protected|public)\s+)?static\s+(?:readonly\s+)?)([\w$]+)\s*(?::\s*([^=]+?))?\s*=\s*(.*)$/.exec(l);
    if (!decl) return;
    const [, exported, name, type, init] = decl as unknown as [string, string | undefined, string, string | undefined, string];
    if (!CONTAINER.test(init)) return;
    if (type && READONLY_TYPE.test(type)) return;
    if (/\bas const\b/.test(init) || /^Object\.freeze\(/.test(init)) return;
    const isStatic = !/^(export\s+)?const/.test(l);
    const where = isStatic ? `static ${name}` : name;
    if (EMPTY.test(init)) { out.push({ file, line: i + 1, name, why: `${where} is an empty container at module level (it exists to be filled)` }); return; }
    const mutated = written(isStatic ? `this.${name}` : name, text) || (isStatic && written(name, text)) || (exported !== undefined && importers.some((t) => written(name, t)));
    if (mutated) out.push({ file, line: i + 1, name, why: `${where} is a container written at run time` });
  });
  return out;
}

function findings(): Finding[] {
  const files = sources(join(ROOT, 'src'));
  const texts = new Map(files.map((f) => [f, readFileSync(f, 'utf8')]));
  const out: Finding[] = [];
  for (const [f, text] of texts) {
    const rel = relative(ROOT, f);
    const base = rel.split('/').pop()!;
    const importers = [...texts].filter(([g, t]) => g !== f && t.includes(`/${base}'`)).map(([, t]) => t);
    out.push(...scan(rel, text, importers));
  }
  return out;
}

test('no module-level mutable state in src/ (top-level let/var, written or empty Map/Set/WeakMap/array/object) outside the allow-list', () => {
  const bad = findings().filter((f) => !ALLOWED[f.file]?.names.includes(f.name));
  assert.deepEqual(bad.map((f) => `${f.file}:${f.line} ${f.name}: ${f.why}`), [],
    'module-level state: move it into the instance that uses it (a class field, a cache object its owner passes), or add it to ALLOWED in this test with the reason it is constant');
});

test('every allow-list entry still names a finding (a stale entry would silently allow a new one)', () => {
  const found = new Set(findings().map((f) => `${f.file}|${f.name}`));
  const stale = Object.entries(ALLOWED).flatMap(([file, a]) => a.names.filter((n) => !found.has(`${file}|${n}`)).map((n) => `${file} ${n}`));
  assert.deepEqual(stale, []);
});

test('the scan flags lets, written and empty containers, and leaves constants alone', () => {
  const src = [
    'let counter = 0;',
    'export let exported: string | undefined;',
    'const cache = new WeakMap<object, string>();',
    'const seen = new Set<string>();',
    "const filled = new Map([['a', 1]]);",
    "filled.set('b', 2);",
    "const HOP = new Set(['connection', 'te']);",
    "const TYPES: ReadonlySet<string> = new Set();",
    "const list = ['a'];",
    "list.push('b');",
    "const LABELS = { a: 'x' } as const;",
    'const reg = {};',
    'const byName: Record<string, number> = { a: 1 };',
    "byName['b'] = 2;",
    'class C {',
    '  static instances = new Map<string, C>();',
    '  static readonly KINDS = new Set([1, 2]);',
    '  private readonly own = new Map<string, number>();',
    '}',
    'function f() {',
    '  let local = 1;',
    '  const m = new Map();',
    '}',
  ].join('\n');
  assert.deepEqual(scan('x.ts', src).map((f) => f.name), ['counter', 'exported', 'cache', 'seen', 'filled', 'list', 'reg', 'byName', 'instances']);
  // an exported container written by a module that imports it
  assert.deepEqual(scan('y.ts', "export const HOOKS = new Set([() => {}]);", ["import { HOOKS } from './y.ts';\nHOOKS.add(() => {});"]).map((f) => f.name), ['HOOKS']);
});
