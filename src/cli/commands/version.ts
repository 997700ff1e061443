import { readFileSync } from 'node:fs';
import type { Command } from '../command.ts';
import { packagePath } from '../../packagePaths.ts';

export const versionCommands: Command[] = [
  {
    path: ['version'],
    summary: 'print the meshfed version',
    flags: {},
    run: async (_args, io) => {
      const pkg = JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string };
      io.out(`meshfed ${pkg.version} (node ${process.version})`);
      return 0;
    },
  },
];
