// `meshfed` commands of this area. Each command is thin: flags in, a call into src/<module>, exit code out.
import { hostPort, str, UserError, type Command } from '../command.ts';
import { fetchStatus } from '../../admin/status.ts';

export const adminCommands: Command[] = [
  {
    path: ['status'],
    summary: 'show clusters, proxies and gateways as seen by the control plane',
    flags: { admin: { type: 'string', default: '127.0.0.1:15014', help: 'HOST:PORT  admin server of the control plane' } },
    run: async (args, io) => {
      try {
        // a bad address is a user-fixable failure here (exit 1), like an unreachable one
        const { host, port } = hostPort(str(args, 'admin') ?? '127.0.0.1:15014', 'admin');
        io.out(await fetchStatus(host, port));
      } catch (e) {
        throw new UserError((e as Error).message);
      }
      return 0;
    },
  },
];
