// Every meshfed command, grouped by the area that owns it (one file per area keeps changes apart).
import type { Command } from '../command.ts';
import { adminCommands } from './admin.ts';
import { caCommands } from './ca.ts';
import { clusterCommands } from './cluster.ts';
import { controlPlaneCommands } from './controlPlane.ts';
import { deployCommands } from './deploy.ts';
import { demoCommands } from './demo.ts';
import { devCommands } from './dev.ts';
import { pilotCommands } from './pilot.ts';
import { proxyCommands } from './proxy.ts';
import { versionCommands } from './version.ts';

export const commands: Command[] = [
  ...clusterCommands,
  ...controlPlaneCommands,
  ...caCommands,
  ...pilotCommands,
  ...proxyCommands,
  ...adminCommands,
  ...devCommands,
  ...deployCommands,
  ...demoCommands,
  ...versionCommands,
].sort((a, b) => a.path.join(' ').localeCompare(b.path.join(' ')));
