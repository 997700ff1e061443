// Files that ship beside the code (generated proto descriptors, dashboard assets, package.json), found from the
// package root. The root is the nearest directory above this module holding package.json: the same answer
// when running the sources (src/) and the build (dist/js/), in a checkout and in the container image.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`meshfed: no package.json above ${from}; the installation is incomplete`);
  }
}

const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

export function packagePath(...parts: string[]): string {
  return join(ROOT, ...parts);
}

/** A JSON file the build step writes to generated/ (`npm run build`, run by `npm ci` through `prepare`). */
export function readGenerated<T>(name: string): T {
  const file = packagePath('generated', name);
  if (!existsSync(file)) throw new Error(`meshfed: ${file} is missing: run "npm run build" (npm ci runs it) to generate it`);
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}
