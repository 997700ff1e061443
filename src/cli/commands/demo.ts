// `meshfed demo …`: the demo workloads the playground and the kind harness deploy.
import { startEcho } from '../../demo/echo.ts';
import { untilSignal } from '../signals.ts';
import { hostPort, requireStr, str, type Command } from '../command.ts';

export const demoCommands: Command[] = [
  {
    path: ['demo', 'echo'],
    summary: 'run the echo demo server (replies with the cluster, region, zone and pod that answered, and the caller identity)',
    flags: {
      listen: { type: 'string', default: '127.0.0.1:8080', help: 'HOST:PORT  where to listen' },
      cluster: { type: 'string', help: 'ID  the member cluster this instance runs in' },
      region: { type: 'string', help: 'R  its region' },
      zone: { type: 'string', help: 'Z  its zone' },
      pod: { type: 'string', help: 'NAME  its pod name (default $POD_NAME)' },
    },
    run: async (args, io) => {
      const listen = hostPort(requireStr(args, 'listen'), 'listen');
      const pod = str(args, 'pod') ?? process.env.POD_NAME;
      const region = str(args, 'region');
      const zone = str(args, 'zone');
      const server = await startEcho({ cluster: requireStr(args, 'cluster'), ...(region ? { region } : {}), ...(zone ? { zone } : {}), ...(pod ? { pod } : {}) }, listen);
      io.out(`echo listening on ${listen.host}:${listen.port}`);
      await untilSignal();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      return 0;
    },
  },
];
