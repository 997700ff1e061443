import type { Command, FlagSpec } from './command.ts';

export function topHelp(commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.path.join(' ').length));
  const lines = [
    'meshfed — multicluster service-mesh federation',
    '',
    'Usage: meshfed <command> [flags]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`),
    '',
    'Run "meshfed <command> --help" for the flags of one command.',
  ];
  return lines.join('\n');
}

export function commandHelp(cmd: Command): string {
  const flags = Object.entries(cmd.flags);
  const names = flags.map(([n, f]) => `--${n}${f.short ? `, -${f.short}` : ''}`);
  const width = Math.max(6, ...names.map((n) => n.length));
  return [
    `meshfed ${cmd.path.join(' ')} — ${cmd.summary}`,
    '',
    `Usage: meshfed ${cmd.path.join(' ')}${cmd.usage ? ' ' + cmd.usage : flags.length ? ' [flags]' : ''}`,
    '',
    'Flags:',
    ...flags.map(([, f], i) => `  ${names[i]!.padEnd(width)}  ${withDefault(f)}`),
    `  ${'--help'.padEnd(width)}  show this help`,
  ].join('\n');
}

/** Commands whose path starts with the given words (for "meshfed cluster --help"). */
export function groupHelp(prefix: string[], commands: Command[]): string {
  const group = commands.filter((c) => prefix.every((w, i) => c.path[i] === w));
  const width = Math.max(...group.map((c) => c.path.join(' ').length));
  return [`meshfed ${prefix.join(' ')} commands:`, '', ...group.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`)].join('\n');
}

/** A flag's help line, ending with its default when it has one the text does not already state. */
export function withDefault(f: FlagSpec): string {
  if (f.default === undefined || f.default === '' || f.default === false || /\(default/.test(f.help)) return f.help;
  return `${f.help} (default: ${f.default})`;
}
