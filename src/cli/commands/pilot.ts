// `meshfed` commands of this area. Each command is thin: flags in, a call into src/<module>, exit code out.
import { hostPort, requireStr, str, UserError, type Command } from '../command.ts';
import { dumpProxyConfig } from '../../xds/dump.ts';
import { table } from '../../admin/views.ts';
import { outputFlag, outputFormat, printOutput } from '../output.ts';

const proxyConfig: Command = {
  path: ['proxy-config'],
  summary: 'print, as JSON, the xDS configuration a node receives (like istioctl proxy-config)',
  usage: '--xds HOST:PORT --node-id ID [--role proxyless|sidecar|gateway] [--cluster C --network N --region R --zone Z] [--service HOST:PORT …]',
  flags: {
    xds: { type: 'string', help: 'HOST:PORT  the pilot ADS address (plaintext)' },
    'node-id': { type: 'string', help: 'ID  xDS node id to connect as' },
    role: { type: 'string', default: 'proxyless', help: 'ROLE  proxyless | sidecar | gateway' },
    cluster: { type: 'string', help: 'NAME  member cluster of the node (CLUSTER_ID)' },
    network: { type: 'string', help: 'NAME  network of the node' },
    region: { type: 'string', help: 'REGION  locality region' },
    zone: { type: 'string', help: 'ZONE  locality zone' },
    service: { type: 'string', multiple: true, help: 'HOST:PORT  listener to ask for (repeatable); none = wildcard clusters' },
    timeout: { type: 'string', default: '5000', help: 'MS  how long to wait for each response' },
    output: outputFlag('json'),
  },
  async run(args, io) {
    const format = outputFormat(args);
    const xds = requireStr(args, 'xds');
    hostPort(xds, 'xds');
    const role = str(args, 'role') ?? 'proxyless';
    if (!['proxyless', 'sidecar', 'gateway'].includes(role)) throw new UserError(`--role must be proxyless, sidecar or gateway, got ${JSON.stringify(role)}`);
    const metadata: Record<string, string> = { MESHFED_ROLE: role };
    const cluster = str(args, 'cluster');
    const network = str(args, 'network');
    if (cluster) metadata.CLUSTER_ID = cluster;
    if (network) metadata.NETWORK = network;
    const services = (args.values.service as string[] | undefined) ?? [];
    try {
      const dump = await dumpProxyConfig(
        xds,
        { id: requireStr(args, 'node-id'), locality: { region: str(args, 'region') ?? '', zone: str(args, 'zone') ?? '' }, metadata },
        services,
        Number(str(args, 'timeout') ?? 5000),
      );
      await printOutput(format, dump, () => table(['TYPE', 'NAME'], (['listeners', 'routes', 'clusters', 'endpoints'] as const)
        .flatMap((t) => (dump[t] as { name?: string; cluster_name?: string }[]).map((r) => [t, r.name ?? r.cluster_name ?? '']))), io.out);
      return 0;
    } catch (e) {
      throw new UserError(`proxy-config: ${(e as Error).message} (is pilot listening on ${xds}?)`);
    }
  },
};

export const pilotCommands: Command[] = [proxyConfig];
