// `meshfed` commands of this area. Each command is thin: flags in, a call into src/<module>, exit code out.
import { hostPort, int, requireStr, str, UsageError, type Command } from '../command.ts';
import { parseAppPorts, parseLabels } from '../../proxy/appPorts.ts';
import { PORTS } from '../../mesh/names.ts';
import { parseXdsAddresses } from '../../xds/xdsAddresses.ts';
import { StartupTiering } from '../../proxy/startupTiering.ts';
import { TRANSPORT_NAMES, type TransportName } from '../../proxy/conn.ts';
import { DEFAULT_IDLE_TIMEOUT_MS } from '../../proxy/gatewayIdle.ts';

const addr = (v: string, flag: string) => hostPort(v.startsWith(':') ? `0.0.0.0${v}` : v, flag);
/** --xds: the control plane's Service, or its replicas as HOST:PORT,HOST:PORT (the proxy moves on when one breaks) */
const XDS_HELP = 'HOST:PORT[,HOST:PORT…]  pilot xDS (plaintext ADS): the control plane\'s Service, or its replicas (a broken stream moves on to the next)';
function xdsFlag(args: Parameters<typeof requireStr>[0]): string {
  const v = requireStr(args, 'xds');
  try { parseXdsAddresses(v); } catch (e) { throw new UsageError(`--xds: ${(e as Error).message}`); }
  return v;
}

const gateway: Command = {
  path: ['gateway'],
  summary: 'Run the east-west gateway: routes mTLS by SNI to this network\'s endpoints without terminating TLS',
  flags: {
    xds: { type: 'string', help: XDS_HELP },
    network: { type: 'string', help: 'NET  the network this gateway fronts' },
    region: { type: 'string', help: 'R  locality region of this gateway' },
    zone: { type: 'string', help: 'Z  locality zone' },
    cluster: { type: 'string', default: 'unknown', help: 'ID  member cluster name (CLUSTER_ID)' },
    listen: { type: 'string', default: `0.0.0.0:${PORTS.eastWestGateway}`, help: 'HOST:PORT  TLS passthrough listener' },
    'node-id': { type: 'string', help: 'ID  xDS node id (default router~…)' },
    health: { type: 'string', default: `:${PORTS.gatewayHealth}`, help: 'HOST:PORT  /healthz/ready' },
    metrics: { type: 'string', default: `:${PORTS.proxyMetrics}`, help: 'HOST:PORT  /stats/prometheus' },
    'drain-ms': { type: 'string', default: '5000', help: 'MS  grace for open connections on SIGTERM' },
    'idle-timeout-ms': { type: 'string', default: String(DEFAULT_IDLE_TIMEOUT_MS), help: 'MS  close a connection that moved no byte either way for this long (Envoy\'s tcp_proxy default: 1 h; 0: never)' },
    workers: { type: 'string', default: '1', help: 'N  gateway processes accepting on --listen (the kernel spreads connections; the first process serves health and summed metrics)' },
    transport: { type: 'string', default: 'auto', help: 'auto|handles|net  connections on libuv TCP handles (less CPU per connection) or on net.Socket; auto: handles when this Node.js has them' },
  },
  // start-up tiering is raised before the proxy's modules load: loading them is part of start-up
  run: async (args, io) => {
    const tiering = new StartupTiering().raise();
    return (await import('../../proxy/runGateway.ts')).runGateway({
      xds: xdsFlag(args),
      network: requireStr(args, 'network'),
      region: requireStr(args, 'region'),
      ...(str(args, 'zone') ? { zone: str(args, 'zone')! } : {}),
      clusterId: str(args, 'cluster') ?? 'unknown',
      ...(str(args, 'node-id') ? { nodeId: str(args, 'node-id')! } : {}),
      listen: addr(requireStr(args, 'listen'), 'listen'),
      health: addr(requireStr(args, 'health'), 'health'),
      metrics: addr(requireStr(args, 'metrics'), 'metrics'),
      drainMs: int(args, 'drain-ms', 5000),
      idleTimeoutMs: atLeast(int(args, 'idle-timeout-ms', DEFAULT_IDLE_TIMEOUT_MS), 'idle-timeout-ms', 0),
      workers: atLeast(int(args, 'workers', 1), 'workers'),
      ...transportFlag(str(args, 'transport') ?? 'auto'),
    }, io.out, tiering);
  },
};

const sidecar: Command = {
  path: ['sidecar'],
  summary: 'Run a workload sidecar: HTTP proxy for the app (HTTP_PROXY) and mTLS inbound, identity from the mesh CA',
  flags: {
    xds: { type: 'string', help: XDS_HELP },
    ca: { type: 'string', help: 'HOST:PORT  mesh CA (CreateCertificate over TLS)' },
    'ca-cert': { type: 'string', help: 'FILE  trust anchor for the CA\'s TLS certificate' },
    'ca-server-name': { type: 'string', help: 'NAME  TLS name to verify on the CA\'s certificate, e.g. meshfed.meshfed-system.svc when --ca is an IP (default: the host of --ca)' },
    'token-file': { type: 'string', help: 'FILE  ServiceAccount JWT sent to the CA' },
    cluster: { type: 'string', help: 'ID  member cluster name' },
    network: { type: 'string', default: '', help: 'NET  network of this workload' },
    region: { type: 'string', default: '', help: 'R  locality region' },
    'app-port': { type: 'string', help: 'N  port of the app on 127.0.0.1' },
    'app-ports': { type: 'string', default: '', help: 'SVC:APP,…  per service port, the app port inbound forwards to (chosen by the caller\'s SNI); others go to --app-port' },
    outbound: { type: 'string', default: `127.0.0.1:${PORTS.sidecarOutbound}`, help: 'HOST:PORT  HTTP proxy for the app' },
    inbound: { type: 'string', default: `0.0.0.0:${PORTS.sidecarInbound}`, help: 'POD_IP:PORT  mTLS inbound' },
    'pod-ip': { type: 'string', help: 'IP  the workload\'s address, to find its own endpoints in EDS (app ports per service port); default: $INSTANCE_IP or $POD_IP, else the --inbound host' },
    metrics: { type: 'string', default: `:${PORTS.proxyMetrics}`, help: 'HOST:PORT  /stats/prometheus and /healthz/ready' },
    namespace: { type: 'string', default: 'default', help: 'NS  namespace of the workload' },
    'service-account': { type: 'string', default: 'default', help: 'SA  ServiceAccount of the workload' },
    service: { type: 'string', default: '', help: 'HOST  this workload\'s service hostname (for telemetry)' },
    'trust-domain': { type: 'string', default: 'cluster.local', help: 'TD  SPIFFE trust domain' },
    labels: { type: 'string', default: '', help: 'K=V,…  the workload\'s labels, sent to pilot (DestinationRule failoverPriority ranks endpoints by them)' },
  },
  // start-up tiering is raised before the proxy's modules load: loading them is part of start-up
  run: async (args, io) => {
    const tiering = new StartupTiering().raise();
    return (await import('../../proxy/runSidecar.ts')).runSidecar({
      xds: xdsFlag(args), ...podIpOf(str(args, 'pod-ip')),
      ca: requireStr(args, 'ca'), ...(str(args, 'ca-server-name') ? { caServerName: requireStr(args, 'ca-server-name') } : {}), caCertFile: requireStr(args, 'ca-cert'), tokenFile: requireStr(args, 'token-file'),
      clusterId: requireStr(args, 'cluster'), network: str(args, 'network') ?? '', region: str(args, 'region') ?? '',
      appPort: int(args, 'app-port', 0) || (() => { throw new UsageError('missing required flag --app-port'); })(),
      appPorts: (() => { try { return parseAppPorts(str(args, 'app-ports') ?? ''); } catch (e) { throw new UsageError((e as Error).message); } })(),
      ...(str(args, 'labels') ? { labels: (() => { try { return parseLabels(str(args, 'labels') ?? ''); } catch (e) { throw new UsageError((e as Error).message); } })() } : {}),
      namespace: str(args, 'namespace') ?? 'default', serviceAccount: str(args, 'service-account') ?? 'default',
      service: str(args, 'service') ?? '', trustDomain: str(args, 'trust-domain') ?? 'cluster.local',
      outbound: addr(requireStr(args, 'outbound'), 'outbound'), inbound: addr(requireStr(args, 'inbound'), 'inbound'), metrics: addr(requireStr(args, 'metrics'), 'metrics'),
    }, io.out, tiering);
  },
};

function transportFlag(v: string): { transport?: TransportName } {
  if (v === 'auto') return {};
  const name = TRANSPORT_NAMES.find((n) => n === v);
  if (name) return { transport: name };
  throw new UsageError(`--transport must be auto, handles or net, got ${JSON.stringify(v)}`);
}

function atLeast(n: number, flag: string, least = 1): number {
  if (n < least) throw new UsageError(`--${flag} must be at least ${least}, got ${n}`);
  return n;
}

/** --pod-ip, else the pod's address from the environment (Istio's INSTANCE_IP, or POD_IP) */
function podIpOf(flag: string | undefined): { podIp?: string } {
  const ip = flag ?? process.env.INSTANCE_IP ?? process.env.POD_IP;
  return ip ? { podIp: ip } : {};
}

export const proxyCommands: Command[] = [gateway, sidecar];
