// meshfed's build: proto descriptors into generated/, then the CLI bundled by esbuild into dist/js/.
// One ESM entry (meshfed.js) with code splitting: every command area is a chunk loaded on demand, so
// `meshfed sidecar` loads the proxy's code and nothing of the control plane or the API stand-in.
// Run by `npm run build`, and by `npm ci` / `npm install` through the `prepare` script.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { writeDescriptors } from './protoDescriptors.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

/** esbuild options for the shipped bundle (also used by the test that checks what the sidecar loads). */
export const buildOptions = {
  absWorkingDir: root,
  entryPoints: { meshfed: 'src/cli/bin.ts', caWorker: 'src/ca/poolWorker.ts' },
  outdir: 'dist/js',
  chunkNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // client-node's ESM build loads optional pieces at run time; it is only ever loaded by control-plane commands
  external: ['@kubernetes/client-node'],
  // CommonJS dependencies (grpc-js, protobufjs, pino…) call require() for node built-ins
  banner: { js: "import { createRequire as __meshfedRequire } from 'node:module'; const require = __meshfedRequire(import.meta.url);" },
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: false,
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
};

export async function build() {
  const t0 = performance.now();
  writeDescriptors(join(root, 'generated'));
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  mkdirSync(join(root, 'dist'), { recursive: true });
  const result = await esbuild.build(buildOptions);
  writeFileSync(join(root, 'dist', 'meta.json'), JSON.stringify(result.metafile));
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  return { ms: Math.round(performance.now() - t0), files: Object.keys(result.metafile.outputs).length, bytes };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await build();
  console.log(`meshfed build: generated/ and dist/js/ (${r.files} files, ${(r.bytes / 1e6).toFixed(1)} MB) in ${r.ms} ms`);
}
