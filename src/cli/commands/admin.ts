// `meshfed` commands of this area. Each command is thin: flags in, a call into src/<module>, exit code out.
import { hostPort, str, UserError, type Command } from '../command.ts';
import { fetchStatusData, renderStatus } from '../../admin/status.ts';
import { OUTPUT_FLAG, outputFormat, printOutput } from '../output.ts';

export const adminCommands: Command[] = [
  {
    path: ['status'],
    summary: 'show clusters, proxies and gateways as seen by the control plane',
    flags: { admin: { type: 'string', default: '127.0.0.1:15014', help: 'HOST:PORT  admin server of the control plane' }, output: OUTPUT_FLAG },
    run: async (args, io) => {
      const format = outputFormat(args);
      try {
        // a bad address is a user-fixable failure here (exit 1), like an unreachable one
        const { host, port } = hostPort(str(args, 'admin') ?? '127.0.0.1:15014', 'admin');
        const d = await fetchStatusData(host, port);
        await printOutput(format, d, () => renderStatus(d.clusters, d.proxies, d.topology, Date.now(), d.leadership), io.out);
      } catch (e) {
        throw new UserError((e as Error).message);
      }
      return 0;
    },
  },
];
