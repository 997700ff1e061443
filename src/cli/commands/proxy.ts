// `meshfed` commands of this area. Each command is thin: flags in, a call into src/<module>, exit code out.
import { hostPort, int, requireStr, str, type Command } from '../command.ts';
import { runGateway } from '../../proxy/runGateway.ts';
import { PORTS } from '../../mesh/names.ts';

const addr = (v: string, flag: string) => hostPort(v.startsWith(':') ? `0.0.0.0${v}` : v, flag);

const gateway: Command = {
  path: ['gateway'],
  summary: 'Run the east-west gateway: routes mTLS by SNI to this network\'s endpoints without terminating TLS',
  flags: {
    xds: { type: 'string', help: 'HOST:PORT  pilot xDS address (plaintext ADS)' },
    network: { type: 'string', help: 'NET  the network this gateway fronts' },
    region: { type: 'string', help: 'R  locality region of this gateway' },
    zone: { type: 'string', help: 'Z  locality zone' },
    cluster: { type: 'string', default: 'unknown', help: 'ID  member cluster name (CLUSTER_ID)' },
    listen: { type: 'string', default: `0.0.0.0:${PORTS.eastWestGateway}`, help: 'HOST:PORT  TLS passthrough listener' },
    'node-id': { type: 'string', help: 'ID  xDS node id (default router~…)' },
    health: { type: 'string', default: `:${PORTS.gatewayHealth}`, help: 'HOST:PORT  /healthz/ready' },
    metrics: { type: 'string', default: `:${PORTS.proxyMetrics}`, help: 'HOST:PORT  /stats/prometheus' },
    'drain-ms': { type: 'string', default: '5000', help: 'MS  grace for open connections on SIGTERM' },
  },
  run: async (args, io) => runGateway({
    xds: requireStr(args, 'xds'),
    network: requireStr(args, 'network'),
    region: requireStr(args, 'region'),
    ...(str(args, 'zone') ? { zone: str(args, 'zone')! } : {}),
    clusterId: str(args, 'cluster') ?? 'unknown',
    ...(str(args, 'node-id') ? { nodeId: str(args, 'node-id')! } : {}),
    listen: addr(requireStr(args, 'listen'), 'listen'),
    health: addr(requireStr(args, 'health'), 'health'),
    metrics: addr(requireStr(args, 'metrics'), 'metrics'),
    drainMs: int(args, 'drain-ms', 5000),
  }, io.out),
};

export const proxyCommands: Command[] = [gateway];
