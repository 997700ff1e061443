// Every meshfed command, grouped by the area that owns it (one file per area keeps changes apart).
// Areas load lazily: `meshfed sidecar` imports the proxy area only, never the control plane or the stand-in.
import type { Command } from '../command.ts';

export interface Area {
  /** first words of the area's commands: the router loads the area when argv[0] is one of them */
  words: string[];
  load: () => Promise<Command[]>;
}

export const areas: Area[] = [
  { words: ['cluster'], load: async () => (await import('./cluster.ts')).clusterCommands },
  { words: ['control-plane'], load: async () => (await import('./controlPlane.ts')).controlPlaneCommands },
  { words: ['ca'], load: async () => (await import('./ca.ts')).caCommands },
  { words: ['proxy-config', 'proxyless-bootstrap'], load: async () => (await import('./pilot.ts')).pilotCommands },
  { words: ['gateway', 'sidecar'], load: async () => (await import('./proxy.ts')).proxyCommands },
  { words: ['status'], load: async () => (await import('./admin.ts')).adminCommands },
  { words: ['dev'], load: async () => (await import('./dev.ts')).devCommands },
  { words: ['install', 'kind'], load: async () => (await import('./deploy.ts')).deployCommands },
  { words: ['demo'], load: async () => (await import('./demo.ts')).demoCommands },
  { words: ['version'], load: async () => (await import('./version.ts')).versionCommands },
];

// code-point order, not localeCompare: the same in every locale, and it spares every process (a sidecar too) the
// ~3 MB of ICU collation data localeCompare pages in
const byPath = (a: Command, b: Command): number => { const x = a.path.join(' '); const y = b.path.join(' '); return x < y ? -1 : x > y ? 1 : 0; };

/** The commands of the area that owns `first`, or of every area when no area owns it (help, unknown words). */
export async function loadCommands(first?: string, from: Area[] = areas): Promise<Command[]> {
  const owner = from.filter((a) => first !== undefined && a.words.includes(first));
  const lists = await Promise.all((owner.length > 0 ? owner : from).map((a) => a.load()));
  return lists.flat().sort(byPath);
}
