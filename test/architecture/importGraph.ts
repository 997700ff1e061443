// The import graph of src/: every static import/export-from (type-only included: a type import still ties two
// files together) and every `import('…')` (dynamic imports and `import('./x.ts').T` type references).
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export interface ImportEdge { from: string; to: string; line: number }
export interface ImportGraph {
  /** repo-relative file paths (src/…) */
  files: string[];
  /** file → the project files it imports (repo-relative, in source order) */
  edges: Map<string, ImportEdge[]>;
  /** relative specifiers that name no file */
  unresolved: ImportEdge[];
  /** top-level `import`/`export … from` lines the parser did not understand (a silent miss would hide an edge) */
  unparsed: Array<{ file: string; line: number; text: string }>;
}

// `import x, { y as z, type T } from '…'`, `import * as ns from '…'`, `export { a } from '…'`, `export * from '…'`:
// between the keyword and `from` only identifiers, braces, commas, `*` and whitespace may stand.
const STATIC = /^(?:import|export)\s+(?:type\s+)?[\w$*\s{},]*?\s*from\s*['"]([^'"]+)['"]/gm;
const BARE = /^import\s*['"]([^'"]+)['"]/gm;
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
// statements that must have been read by one of the above
const STATEMENT_START = /^(?:import\s+(?!\()|export\s+(?:type\s+)?(?:\*|\{))/gm;

const lineAt = (text: string, index: number): number => text.slice(0, index).split('\n').length;

/** Pure: the specifiers a source text imports, with their lines; and the statement lines none of the patterns read. */
export function importsOf(text: string): { specs: Array<{ spec: string; line: number }>; unparsed: Array<{ line: number; text: string }> } {
  const specs: Array<{ spec: string; line: number }> = [];
  const read = new Set<number>();
  for (const re of [STATIC, BARE]) {
    for (const m of text.matchAll(re)) { specs.push({ spec: m[1]!, line: lineAt(text, m.index) }); read.add(m.index); }
  }
  for (const m of text.matchAll(DYNAMIC)) specs.push({ spec: m[1]!, line: lineAt(text, m.index) });
  const unparsed: Array<{ line: number; text: string }> = [];
  for (const m of text.matchAll(STATEMENT_START)) {
    if (read.has(m.index)) continue;
    const stmt = text.slice(m.index, text.indexOf('\n', m.index));
    // `export { a, b };` re-exports local names: no import
    if (/^export\s+(?:type\s+)?\{[^}]*\}\s*;?\s*$/.test(stmt)) continue;
    unparsed.push({ line: lineAt(text, m.index), text: stmt });
  }
  specs.sort((a, b) => a.line - b.line);
  return { specs, unparsed };
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

export function importGraph(root: string, dir = 'src'): ImportGraph {
  const files = tsFiles(join(root, dir)).map((f) => relative(root, f)).sort();
  const edges = new Map<string, ImportEdge[]>();
  const unresolved: ImportEdge[] = [];
  const unparsed: ImportGraph['unparsed'] = [];
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8');
    const r = importsOf(text);
    for (const u of r.unparsed) unparsed.push({ file, ...u });
    const out: ImportEdge[] = [];
    for (const { spec, line } of r.specs) {
      if (!spec.startsWith('.')) continue; // node: builtins and npm packages
      const to = relative(root, resolve(root, dirname(file), spec));
      (existsSync(join(root, to)) && to.endsWith('.ts') ? out : unresolved).push({ from: file, to, line });
    }
    edges.set(file, out);
  }
  return { files, edges, unresolved, unparsed };
}

/** Pure: the import cycles of a graph, one shortest cycle per strongly connected component (Tarjan). */
export function cycles(edges: Map<string, ImportEdge[]>): string[][] {
  const succ = (f: string): string[] => [...new Set((edges.get(f) ?? []).map((e) => e.to))];
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next); low.set(v, next); next++;
    stack.push(v); onStack.add(v);
    for (const w of succ(v)) {
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      let w: string;
      do { w = stack.pop()!; onStack.delete(w); c.push(w); } while (w !== v);
      if (c.length > 1 || succ(v).includes(v)) components.push(c);
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  return components.map((c) => shortestCycle(c.sort()[0]!, new Set(c), succ));
}

/** Breadth-first from `start` back to itself inside its component: the path to print. */
function shortestCycle(start: string, inside: Set<string>, succ: (f: string) => string[]): string[] {
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of succ(v)) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(prev.get(path[0]!)!);
        return [...path, start];
      }
      if (!prev.has(w)) { prev.set(w, v); queue.push(w); }
    }
  }
  return [start];
}
