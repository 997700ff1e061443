// `-o table|json|yaml` for every command that prints objects, as kubectl and istioctl have it: the table for people,
// JSON and YAML of the same data for scripts.
import { UsageError, type FlagSpec, type ParsedArgs } from './command.ts';

export type OutputFormat = 'table' | 'json' | 'yaml';

export const OUTPUT_FLAG: FlagSpec = outputFlag('table');

/** -o with another default (proxy-config prints JSON unless asked, as istioctl's config_dump) */
export function outputFlag(def?: OutputFormat): FlagSpec {
  return { type: 'string', short: 'o', ...(def ? { default: def } : {}), help: `table|json|yaml  output format${def ? '' : ' (default: depends on what is printed)'}` };
}

export function outputFormat(args: ParsedArgs, fallback: OutputFormat = 'table'): OutputFormat {
  const v = args.values.output ?? fallback;
  if (v === 'table' || v === 'json' || v === 'yaml') return v;
  throw new UsageError(`-o must be table, json or yaml, got ${JSON.stringify(v)}`);
}

/** Prints `data` as JSON or YAML, or the table `human()` renders; one string, printed once. */
export async function printOutput(format: OutputFormat, data: unknown, human: () => string, out: (line: string) => void): Promise<void> {
  if (format === 'json') return out(JSON.stringify(data, null, 2));
  if (format === 'yaml') {
    const { stringify } = await import('yaml');
    return out(stringify(data).trimEnd());
  }
  out(human());
}
