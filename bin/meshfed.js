#!/usr/bin/env node
// meshfed entry point: runs the build, dist/js/meshfed.js (`npm run build`, which `npm ci` runs through `prepare`).
// MESHFED_FROM_SOURCE=1 runs the TypeScript sources through tsx instead (the tests do; tsx is a devDependency).
import { existsSync } from 'node:fs';

if (process.env.MESHFED_FROM_SOURCE === '1') {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/bin.ts');
} else {
  const built = new URL('../dist/js/meshfed.js', import.meta.url);
  if (!existsSync(built)) {
    process.stderr.write(`meshfed: ${built.pathname} is missing: run "npm run build" in ${new URL('..', import.meta.url).pathname}\n`);
    process.exit(1);
  }
  await import(built.href);
}
