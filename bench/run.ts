// `npm run bench [-- NAME…]`: runs every bench/*.bench.ts (or the named ones) one after another, each in its
// own process, and prints one JSON document with all their figures. Each benchmark prints one JSON object
// on its last stdout line and its progress on stderr.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f === `${w}.bench.ts` || f.startsWith(w)))
  .sort();

const results: Record<string, unknown> = {};
for (const f of files) {
  process.stderr.write(`== bench ${f}\n`);
  const out = await new Promise<string>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--expose-gc', dir + f], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    child.stdout.on('data', (d) => (buf += d));
    child.on('close', (code) => resolve(code === 0 ? buf : JSON.stringify({ error: `exit ${code}` })));
  });
  const last = out.trim().split('\n').pop() ?? '{}';
  try {
    results[f.replace(/\.bench\.ts$/, '')] = JSON.parse(last);
  } catch {
    results[f.replace(/\.bench\.ts$/, '')] = { error: 'no JSON on the last line', output: out.slice(-500) };
  }
}
process.stdout.write(JSON.stringify({ machine: { node: process.version, cpus: (await import('node:os')).cpus().length }, results }, null, 2) + '\n');
