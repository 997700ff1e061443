// meshfed's command-line entry: finds the command by its words, parses its flags, runs it.
import { loadCommands } from './commands/index.ts';
import { parseFlags, UsageError, UserError, type Command, type CommandIO } from './command.ts';
import { commandHelp, groupHelp, topHelp } from './help.ts';

const stdio: CommandIO = {
  out: (l) => process.stdout.write(l + '\n'),
  err: (l) => process.stderr.write(l + '\n'),
};

/** Longest command path that prefixes argv. */
export function findCommand(argv: string[], all: Command[]): { cmd?: Command; rest: string[] } {
  let best: Command | undefined;
  for (const c of all) {
    if (c.path.every((w, i) => argv[i] === w) && (!best || c.path.length > best.path.length)) best = c;
  }
  return { cmd: best, rest: best ? argv.slice(best.path.length) : argv };
}

export async function main(argv: string[], io: CommandIO = stdio): Promise<number> {
  const commands = await loadCommands(argv[0]);
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(topHelp(commands));
    return 0;
  }
  const { cmd, rest } = findCommand(argv, commands);
  if (!cmd) {
    const words = argv.filter((a) => !a.startsWith('-'));
    const group = commands.filter((c) => c.path[0] === words[0]);
    if (group.length > 0 && (argv.includes('--help') || argv.includes('-h') || words.length === 1)) {
      io.out(groupHelp([words[0]!], commands));
      return argv.includes('--help') || argv.includes('-h') ? 0 : 2;
    }
    io.err(`meshfed: unknown command "${words.slice(0, 2).join(' ')}" (run "meshfed --help" for the list)`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(commandHelp(cmd));
    return 0;
  }
  try {
    const args = parseFlags(cmd, rest);
    return await cmd.run(args, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`meshfed: ${e.message}`);
      return 2;
    }
    if (e instanceof UserError) {
      io.err(`meshfed: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
