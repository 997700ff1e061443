import { readFileSync } from 'node:fs';
import type { Command } from '../command.ts';
import { packagePath } from '../../packagePaths.ts';
import { OUTPUT_FLAG, outputFormat, printOutput } from '../output.ts';

export const versionCommands: Command[] = [
  {
    path: ['version'],
    summary: 'print the meshfed version',
    flags: { output: OUTPUT_FLAG },
    run: async (args, io) => {
      const pkg = JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string };
      const v = { meshfed: pkg.version, node: process.version };
      await printOutput(outputFormat(args), v, () => `meshfed ${v.meshfed} (node ${v.node})`, io.out);
      return 0;
    },
  },
];
