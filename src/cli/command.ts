// The shape every `meshfed` command has. Commands live in src/cli/commands/<area>.ts and are thin:
// they parse flags and call the modules that do the work.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export type FlagSpec = {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  default?: string | boolean;
  /** one line for --help, e.g. "FILE  kubeconfig of the remote cluster" */
  help: string;
};

export interface CommandIO {
  out: (line: string) => void;
  err: (line: string) => void;
}

export interface Command {
  /** words that select it, e.g. ['cluster', 'add'] */
  path: string[];
  summary: string;
  usage?: string;
  flags: Record<string, FlagSpec>;
  /** allow positional arguments (their meaning is described in usage) */
  positionals?: boolean;
  run: (args: ParsedArgs, io: CommandIO) => Promise<number>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** A user mistake on the command line: printed as one line, exit code 2. */
export class UsageError extends Error {}

/** A failure the user can fix (bad file, unreachable server): printed as one line, exit code 1. */
export class UserError extends Error {}

export function parseFlags(cmd: Command, argv: string[]): ParsedArgs {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, spec] of Object.entries(cmd.flags)) {
    options[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.multiple ? { multiple: true } : {}), ...(spec.default !== undefined ? { default: spec.default } : {}) } as never;
  }
  try {
    const parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: cmd.positionals ?? false });
    return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals };
  } catch (e) {
    throw new UsageError(`${cmd.path.join(' ')}: ${(e as Error).message.replace(/\. To specify.*$/s, '')}`);
  }
}

export function str(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function requireStr(args: ParsedArgs, name: string): string {
  const v = str(args, name);
  if (v === undefined || v === '') throw new UsageError(`missing required flag --${name}`);
  return v;
}

export function bool(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

export function int(args: ParsedArgs, name: string, fallback: number): number {
  const v = str(args, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(v)}`);
  return n;
}

/** "host:port" → parts; throws a UsageError naming the flag on a bad value. */
export function hostPort(value: string, flag: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(value);
  if (!m || Number(m[2]) > 65535) throw new UsageError(`--${flag} must be HOST:PORT, got ${JSON.stringify(value)}`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}
