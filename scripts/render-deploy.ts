// Rewrites deploy/*.yaml from src/deploy/manifests.ts: `node --import tsx scripts/render-deploy.ts`.
import { writeFileSync } from 'node:fs';
import { renderedDeployFiles } from '../src/deploy/rendered.ts';

for (const [name, text] of Object.entries(renderedDeployFiles())) {
  writeFileSync(new URL(`../deploy/${name}`, import.meta.url), text);
  process.stdout.write(`wrote deploy/${name}\n`);
}
