// `meshfed` commands of this area. Each command is thin: flags in, a call into src/<module>, exit code out.
import type { Command } from '../command.ts';

export const pilotCommands: Command[] = [];
