// `meshfed proxy-config [POD]`: what a proxy receives over xDS, as istioctl proxy-config shows it. With no flags it asks
// the local control plane's admin server which proxies are connected; a POD (name, or part of a node id) picks one
// and its identity (node id, role, cluster, network, locality) is used to ask pilot for the same configuration.
import { hostPort, requireStr, str, UsageError, UserError, type Command } from '../command.ts';
import { dumpProxyConfig } from '../../xds/dump.ts';
import { getJson } from '../../admin/status.ts';
import { table } from '../../admin/views.ts';
import type { ProxySync } from '../../admin/sources.ts';
import { outputFlag, outputFormat, printOutput } from '../output.ts';
import { CONTROL_PLANE_SERVICE_XDS, proxylessBootstrap } from '../../xds/bootstrap.ts';
import { xdsNodeId } from '../../mesh/names.ts';

/** The connected proxies whose node id names `pod` (pod name, IP or any part of the id); pure. */
export function pickProxies(proxies: readonly ProxySync[], pod: string): ProxySync[] {
  const exact = proxies.filter((p) => p.nodeId.split('~').some((part) => part === pod || part.split('.')[0] === pod));
  return exact.length > 0 ? exact : proxies.filter((p) => p.nodeId.includes(pod));
}

const proxyConfig: Command = {
  path: ['proxy-config'],
  summary: 'print the xDS configuration a proxy receives (like istioctl proxy-config); no arguments: list the connected proxies',
  usage: '[POD] [--admin HOST:PORT] [--xds HOST:PORT]  |  --xds HOST:PORT --node-id ID [--role proxyless|sidecar|gateway] [--cluster C --network N --region R --zone Z] [--service HOST:PORT …]',
  positionals: true,
  flags: {
    admin: { type: 'string', default: '127.0.0.1:15014', help: 'HOST:PORT  the control plane\'s admin server, to list and pick connected proxies' },
    xds: { type: 'string', default: '127.0.0.1:15010', help: 'HOST:PORT  the pilot ADS address (plaintext)' },
    'node-id': { type: 'string', help: 'ID  xDS node id to connect as (instead of picking a connected POD)' },
    role: { type: 'string', default: 'proxyless', help: 'ROLE  proxyless | sidecar | gateway (with --node-id)' },
    cluster: { type: 'string', help: 'NAME  member cluster of the node (CLUSTER_ID)' },
    network: { type: 'string', help: 'NAME  network of the node' },
    region: { type: 'string', help: 'REGION  locality region' },
    zone: { type: 'string', help: 'ZONE  locality zone' },
    service: { type: 'string', multiple: true, help: 'HOST:PORT  listener to ask for (repeatable); none = wildcard clusters' },
    timeout: { type: 'string', default: '5000', help: 'MS  how long to wait for each response' },
    output: outputFlag(),
  },
  async run(args, io) {
    const format = outputFormat(args, 'json'); // a config dump by default, as istioctl's; the proxy list as a table
    const xds = requireStr(args, 'xds');
    hostPort(xds, 'xds');
    if (args.positionals.length > 1) throw new UsageError('proxy-config takes at most one POD');
    const pod = args.positionals[0];
    let node: { id: string; role: string; cluster?: string; network?: string; region: string; zone: string };
    if (str(args, 'node-id')) {
      if (pod) throw new UsageError('give either a POD or --node-id, not both');
      node = { id: requireStr(args, 'node-id'), role: str(args, 'role') ?? 'proxyless', ...optional('cluster', str(args, 'cluster')), ...optional('network', str(args, 'network')), region: str(args, 'region') ?? '', zone: str(args, 'zone') ?? '' };
    } else {
      const { host, port } = hostPort(requireStr(args, 'admin'), 'admin');
      let proxies: ProxySync[];
      try { proxies = await getJson<ProxySync[]>(`http://${host}:${port}`, '/debug/syncz'); } catch (e) {
        throw new UserError(`${(e as Error).message}: start the control plane or the playground (npm start), pass --admin, or name a node with --node-id`);
      }
      if (!pod) {
        const rows = proxies.map((p) => [p.nodeId.split('~')[2]?.split('.')[0] ?? p.nodeId, p.role, p.cluster, p.network, p.nodeId]);
        await printOutput(outputFormat(args, 'table'), proxies, () => (rows.length === 0 ? 'no proxies connected'
          : `${table(['POD', 'ROLE', 'CLUSTER', 'NETWORK', 'NODE ID'], rows)}\n\nrun "meshfed proxy-config POD" for one of them`), io.out);
        return 0;
      }
      const found = pickProxies(proxies, pod);
      if (found.length !== 1) {
        throw new UserError(found.length === 0 ? `no connected proxy matches "${pod}" (run "meshfed proxy-config" for the list)`
          : `"${pod}" matches ${found.length} proxies: ${found.map((p) => p.nodeId).join(', ')}; give more of its name`);
      }
      const p = found[0]!;
      node = { id: p.nodeId, role: p.role, cluster: p.cluster, network: p.network, region: p.locality?.region ?? '', zone: p.locality?.zone ?? '' };
    }
    if (!['proxyless', 'sidecar', 'gateway'].includes(node.role)) throw new UserError(`--role must be proxyless, sidecar or gateway, got ${JSON.stringify(node.role)}`);
    const metadata: Record<string, string> = { MESHFED_ROLE: node.role, ...(node.cluster ? { CLUSTER_ID: node.cluster } : {}), ...(node.network ? { NETWORK: node.network } : {}) };
    const services = (args.values.service as string[] | undefined) ?? [];
    try {
      const dump = await dumpProxyConfig(xds, { id: node.id, locality: { region: node.region, zone: node.zone }, metadata }, services, Number(str(args, 'timeout') ?? 5000));
      await printOutput(format, dump, () => table(['TYPE', 'NAME'], (['listeners', 'routes', 'clusters', 'endpoints'] as const)
        .flatMap((t) => (dump[t] as { name?: string; cluster_name?: string }[]).map((r) => [t, r.name ?? r.cluster_name ?? '']))), io.out);
      return 0;
    } catch (e) {
      throw new UserError(`proxy-config: ${(e as Error).message} (is pilot listening on ${xds}?)`);
    }
  },
};

function optional<K extends string>(key: K, v: string | undefined): Partial<Record<K, string>> {
  return v ? ({ [key]: v } as Record<K, string>) : {};
}

const bootstrap: Command = {
  path: ['proxyless-bootstrap'],
  summary: 'print the xDS bootstrap (GRPC_XDS_BOOTSTRAP) for a proxyless gRPC application; it names the control plane\'s Service, so clients move to a live replica',
  usage: '[--xds HOST:PORT] [--pod NAME --namespace NS --pod-ip IP | --node-id ID] [--cluster C --network N --region R --zone Z]',
  flags: {
    xds: { type: 'string', default: CONTROL_PLANE_SERVICE_XDS, help: 'HOST:PORT  pilot\'s plaintext ADS: the control plane\'s Service' },
    pod: { type: 'string', help: 'NAME  the pod (default: $POD_NAME)' },
    namespace: { type: 'string', help: 'NS  the pod\'s namespace (default: $POD_NAMESPACE, else default)' },
    'pod-ip': { type: 'string', help: 'IP  the pod\'s address (default: $INSTANCE_IP or $POD_IP)' },
    'node-id': { type: 'string', help: 'ID  the xDS node id, instead of one built from --pod, --namespace and --pod-ip' },
    cluster: { type: 'string', help: 'NAME  member cluster (CLUSTER_ID)' },
    network: { type: 'string', help: 'NAME  network of the pod' },
    region: { type: 'string', help: 'REGION  locality region' },
    zone: { type: 'string', help: 'ZONE  locality zone' },
  },
  async run(args, io) {
    const xds = requireStr(args, 'xds');
    hostPort(xds, 'xds');
    let nodeId = str(args, 'node-id');
    if (!nodeId) {
      const pod = str(args, 'pod') ?? process.env.POD_NAME;
      const ip = str(args, 'pod-ip') ?? process.env.INSTANCE_IP ?? process.env.POD_IP;
      if (!pod || !ip) throw new UsageError('name the pod: --pod and --pod-ip (or $POD_NAME and $INSTANCE_IP from the downward API), or give --node-id');
      nodeId = xdsNodeId('sidecar', ip, pod, str(args, 'namespace') ?? process.env.POD_NAMESPACE ?? 'default');
    }
    const b = proxylessBootstrap({ xds, nodeId, ...optional('cluster', str(args, 'cluster')), ...optional('network', str(args, 'network')), ...optional('region', str(args, 'region')), ...optional('zone', str(args, 'zone')) });
    io.out(JSON.stringify(b, null, 2));
    return 0;
  },
};

export const pilotCommands: Command[] = [proxyConfig, bootstrap];
