// Reading a topology file for a command: a missing file or an invalid topology is one UserError (exit 1).
import { readFileSync } from 'node:fs';
import { parseTopology, TopologyError, type Topology } from '../mesh/topology.ts';
import { UserError } from './command.ts';

export const DEFAULT_TOPOLOGY = 'clusters/playground.yaml';

export function loadTopologyFile(file: string): Topology {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read topology ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return parseTopology(text, file);
  } catch (e) {
    if (e instanceof TopologyError) throw new UserError(e.message);
    throw e;
  }
}
