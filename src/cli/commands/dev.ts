// `meshfed dev …`: the local Kubernetes API stand-ins and the multi-cluster playground (never used by product code).
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { startPlayground } from '../../playground/clusters.ts';
import { standinTls } from '../../playground/standinTls.ts';
import { startSecureApiServer } from '../../devcluster/secure.ts';
import { writeKubeconfig } from '../../devcluster/kubeconfigFile.ts';
import { createLogger } from '../../log.ts';
import { removeState, runningPlayground, writeState, type PlaygroundState } from '../../playground/lock.ts';
import { controlRequest } from '../../playground/control.ts';
import type { CallRequest, CallResult } from '../../playground/call.ts';
import { untilSignal } from '../signals.ts';
import { DEFAULT_TOPOLOGY, loadTopologyFile } from '../topologyFile.ts';
import { hostPort, int, requireStr, str, UsageError, UserError, type Command, type CommandIO, type ParsedArgs } from '../command.ts';
import { LEADER_ELECTION_FLAG_HELP, leaderElectionFromFlags, type LeaderElectionFlags } from '../../controlplane/leaderElectionFlags.ts';

const STATE_DIR = '.meshfed/playground';

function running(stateDir: string): PlaygroundState {
  const st = runningPlayground(`${stateDir}/state.json`);
  if (!st) throw new UserError(`no playground is running (no live ${stateDir}/state.json): start one with "meshfed dev up" (npm start)`);
  if (!st.control) throw new UserError(`the playground in ${stateDir} runs clusters only ("dev clusters up"); failover needs "meshfed dev up"`);
  return st;
}

async function regionCommand(args: ParsedArgs, io: CommandIO, op: 'failover' | 'restore'): Promise<number> {
  const region = requireStr(args, 'region');
  const st = running(requireStr(args, 'state-dir'));
  const r = await controlRequest(st.control, 'POST', `/${op}?region=${encodeURIComponent(region)}`).catch((e: unknown) => { throw new UserError((e as Error).message); });
  if (r.status !== 200) throw new UserError(String(r.body.error));
  io.out(op === 'failover'
    ? `region ${region} is down (echo workloads, gateways and API servers stopped answering, in ${String(r.body.ms)} ms). Try: meshfed dev call echo --from <cluster>; bring it back with: meshfed dev restore --region ${region}`
    : `region ${region} is back (in ${String(r.body.ms)} ms)`);
  return 0;
}

/** the lease timing flags `dev up` takes (as `meshfed control-plane`) */
const LEASE_FLAGS = ['leader-elect-lease-duration', 'leader-elect-renew-deadline', 'leader-elect-retry-period'] as const;

async function killLeader(args: ParsedArgs, io: CommandIO): Promise<number> {
  const st = running(requireStr(args, 'state-dir'));
  const r = await controlRequest(st.control, 'POST', '/kill-leader').catch((e: unknown) => { throw new UserError((e as Error).message); });
  if (r.status !== 200) throw new UserError(String(r.body.error));
  const others = (r.body.others as Array<{ replica: string; admin: string }>);
  io.out(`control-plane replica ${String(r.body.killed)} (the leader) ended without releasing its Lease: ${others.length ? others.map((o) => o.replica).join(', ') : 'its replacement'} may take over once the Lease expires (${String(r.body.leaseDurationSeconds)} s after its last renewal); a replacement is starting on its ports, and the proxies move to a live replica`);
  io.out(`watch it: meshfed status --admin ${others[0]?.admin ?? st.admin}   (or the dashboard)`);
  return 0;
}

async function meshUp(args: ParsedArgs, io: CommandIO): Promise<number> {
  const topologyFile = requireStr(args, 'topology');
  const t = loadTopologyFile(topologyFile);
  const stateDir = requireStr(args, 'state-dir');
  const stateFile = `${stateDir}/state.json`;
  const already = runningPlayground(stateFile);
  if (already) throw new UserError(`a playground is already running (pid ${already.pid}, kubeconfig ${already.kubeconfig}); stop it with Ctrl-C in its terminal or "kill ${already.pid}"`);
  // claim the state file before binding anything, so a second `dev up` says so instead of failing on ports
  writeState(stateFile, { pid: process.pid, startedAt: new Date().toISOString(), control: '', kubeconfig: '', admin: '', contexts: t.clusters.map((c) => c.name) });
  io.out(`starting the playground from ${topologyFile}: ${t.clusters.length} clusters, ${new Set(t.clusters.map((c) => c.region)).size} regions, ${t.gateways.length} east-west gateways…`);
  const { startMeshPlayground } = await import('../../playground/mesh.ts');
  const { startControlServer } = await import('../../playground/control.ts');
  let pg;
  try {
    const replicas = int(args, 'control-plane-replicas', 1);
    let timing;
    try {
      timing = leaderElectionFromFlags(Object.fromEntries(LEASE_FLAGS.map((k) => [k, str(args, k)])) as LeaderElectionFlags);
    } catch (e) { throw new UsageError((e as Error).message); }
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) throw new UsageError(`--control-plane-replicas must be 1 to 5, got ${replicas}`);
    pg = await startMeshPlayground({
      topology: t, stateDir, controlPlaneReplicas: replicas, ...(timing ? { leaderElection: timing } : {}),
      ports: { xds: int(args, 'xds-port', 15010), secure: int(args, 'secure-port', 15012), admin: int(args, 'admin-port', 15014) },
      onProgress: (l) => io.out(`  ${l}`),
      trafficEveryMs: 1000,
    });
  } catch (e) {
    removeState(stateFile);
    throw new UserError(`the playground did not start: ${(e as Error).message}`);
  }
  const control = await startControlServer(pg);
  const admin = `127.0.0.1:${pg.controlPlane.ports.admin}`;
  writeState(stateFile, { pid: process.pid, startedAt: new Date().toISOString(), control: control.url, kubeconfig: pg.kubeconfig, admin, contexts: t.clusters.map((c) => c.name) });
  const other = t.clusters.find((c) => c.region !== t.clusters[0]!.region) ?? t.clusters[0]!;
  io.out('');
  io.out(`the mesh is up. kubeconfig: ${pg.kubeconfig}`);
  io.out(`contexts: ${t.clusters.map((c) => `${c.name} (${c.region}, ${c.network})`).join(', ')}`);
  io.out(`dashboard: http://${admin}/   (admin API: /debug/registry, /debug/clusters, /metrics)`);
  const cps = pg.controlPlanes.all();
  if (cps.length > 1) io.out(`control plane: ${cps.length} replicas (${cps.map((c) => `${c.elector!.identity} admin 127.0.0.1:${c.ports.admin}`).join(', ')}); the proxies know every one`);
  io.out('');
  io.out('try:');
  io.out(`  kubectl --kubeconfig ${pg.kubeconfig} --context ${other.name} get svc -A`);
  io.out(`  meshfed cluster list --admin ${admin} --config-kubeconfig ${pg.kubeconfig}`);
  io.out(`  meshfed dev call echo --from ${t.clusters[0]!.name}`);
  io.out(`  meshfed dev failover --region ${t.clusters[0]!.region}    (then dev call again; dev restore --region ${t.clusters[0]!.region})`);
  io.out(`  meshfed dev kill-leader    (then meshfed status --admin ${admin}: another control-plane replica takes over)`);
  io.out('');
  io.out('Ctrl-C stops everything.');
  const sig = await untilSignal();
  io.out(`${sig}: stopping the playground…`);
  await control.close();
  await pg.stop();
  removeState(stateFile);
  return 0;
}

async function clustersUp(topologyFile: string, kubeconfigOut: string, io: CommandIO): Promise<number> {
  const t = loadTopologyFile(topologyFile);
  io.out(`starting ${t.clusters.length} clusters from ${topologyFile}…`);
  let n = 0;
  const running = await startPlayground(t, { onProgress: (l) => io.out(`  ${l} [${++n}/${t.clusters.length}]`) });
  writeKubeconfig(kubeconfigOut, running.servers, t.controlPlane);
  const kc = resolve(kubeconfigOut);
  io.out('');
  io.out(`${t.clusters.length}/${t.clusters.length} clusters up. kubeconfig: ${kc}`);
  io.out(`contexts: ${t.clusters.map((c) => `${c.name} (${c.region}, ${c.network})`).join(', ')}`);
  io.out('');
  io.out('try:');
  io.out(`  export KUBECONFIG=${kc}`);
  io.out(`  kubectl --context ${t.clusters[0]!.name} get nodes -L topology.kubernetes.io/region,topology.kubernetes.io/zone`);
  io.out(`  kubectl --context ${t.clusters[t.clusters.length - 1]!.name} get ns`);
  io.out(`  kubectl --context ${t.clusters[0]!.name} get svc -A`);
  io.out('');
  io.out('Ctrl-C stops them.');
  const sig = await untilSignal();
  io.out(`${sig}: stopping clusters…`);
  await running.close();
  return 0;
}

/** -X/-H/-d as curl reads them: -d without -X is a POST; a header is "Name: value". */
function callRequestOf(args: ParsedArgs): CallRequest {
  const headers: Record<string, string> = {};
  const given = args.values.header;
  for (const h of Array.isArray(given) ? given : []) {
    const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):\s*(.*)$/.exec(h);
    if (!m) throw new UsageError(`--header must be "NAME: VALUE", got ${JSON.stringify(h)}`);
    headers[m[1]!.toLowerCase()] = m[2]!;
  }
  const data = str(args, 'data');
  const method = (str(args, 'method') ?? (data !== undefined ? 'POST' : 'GET')).toUpperCase();
  if (!/^[A-Z]+$/.test(method)) throw new UsageError(`--method must be an HTTP method such as GET or POST, got ${JSON.stringify(str(args, 'method'))}`);
  return { method, ...(Object.keys(headers).length ? { headers } : {}), ...(data !== undefined ? { body: data } : {}) };
}

async function devCall(args: ParsedArgs, io: CommandIO): Promise<number> {
  const request = callRequestOf(args);
  const st = running(requireStr(args, 'state-dir'));
  const target = args.positionals[0] ?? 'echo';
  const from = str(args, 'from') ?? st.contexts[0] ?? '';
  const r = await controlRequest(st.control, 'POST', '/call', { from, target, request }).catch((e: unknown) => { throw new UserError((e as Error).message); });
  if (r.status !== 200) throw new UserError(String(r.body.error));
  const c = r.body as unknown as CallResult;
  const what = `${from} → ${target}${request.method !== 'GET' ? ` (${request.method})` : ''}`;
  if (!c.ok) throw new UserError(`${what}: failed (${c.status || 'no response'}: ${c.error ?? ''}) after ${c.ms.toFixed(0)} ms`);
  if (c.reply) io.out(`${what}: answered by ${c.reply.pod} in cluster ${c.reply.cluster} (region ${c.reply.region}, zone ${c.reply.zone}) in ${c.ms.toFixed(1)} ms; caller ${c.reply.caller ?? 'unknown'}`);
  else {
    io.out(`${what}: HTTP ${c.status} in ${c.ms.toFixed(1)} ms`);
    if (c.body) io.out(c.body.replace(/\n$/, ''));
  }
  return 0;
}

export const devCommands: Command[] = [
  {
    path: ['dev', 'apiserver'],
    summary: 'run one local Kubernetes API stand-in (for machines without a real cluster)',
    flags: {
      name: { type: 'string', help: 'NAME  cluster name' },
      listen: { type: 'string', default: '127.0.0.1:0', help: 'HOST:PORT  where to listen (port 0: any free port)' },
      'kubeconfig-out': { type: 'string', help: 'FILE  where to write its kubeconfig (default .meshfed/dev/<name>.kubeconfig)' },
      'data-dir': { type: 'string', help: 'DIR  keep its objects here across restarts' },
      'service-cidr': { type: 'string', default: '10.96.0.0/16', help: 'CIDR  ClusterIP range' },
    },
    run: async (args, io) => {
      const name = requireStr(args, 'name');
      const { host, port } = hostPort(requireStr(args, 'listen'), 'listen');
      const dataDir = str(args, 'data-dir');
      if (dataDir) mkdirSync(dataDir, { recursive: true });
      const server = await startSecureApiServer({ name, host, port, serviceCidr: requireStr(args, 'service-cidr'), ...(dataDir ? { dataDir } : {}), tls: standinTls(name, host, dataDir), log: createLogger('devcluster') });
      const out = resolve(str(args, 'kubeconfig-out') ?? `.meshfed/dev/${name}.kubeconfig`);
      writeKubeconfig(out, [server]);
      io.out(`cluster ${name} listening on ${server.url}`);
      io.out(`kubeconfig: ${out}`);
      io.out(`try: kubectl --kubeconfig ${out} get namespaces`);
      await untilSignal();
      await server.close();
      return 0;
    },
  },
  {
    path: ['dev', 'clusters', 'up'],
    summary: 'start one API stand-in per cluster of a topology file, with zone-labelled nodes and one kubeconfig',
    flags: {
      topology: { type: 'string', default: DEFAULT_TOPOLOGY, help: 'FILE  topology file' },
      'kubeconfig-out': { type: 'string', default: `${STATE_DIR}/kubeconfig`, help: 'FILE  where to write the kubeconfig (one context per cluster)' },
    },
    run: async (args, io) => clustersUp(requireStr(args, 'topology'), requireStr(args, 'kubeconfig-out'), io),
  },
  {
    path: ['dev', 'up'],
    summary: 'start the local multi-cluster mesh from clusters/playground.yaml: clusters, control plane, gateways, meshed demo (what `npm start` runs)',
    flags: {
      topology: { type: 'string', default: DEFAULT_TOPOLOGY, help: 'FILE  topology file' },
      'state-dir': { type: 'string', default: STATE_DIR, help: 'DIR  kubeconfig, tokens and state of the running playground' },
      'xds-port': { type: 'string', default: '15010', help: 'PORT  control plane plaintext xDS on 127.0.0.1 (0: any free port)' },
      'secure-port': { type: 'string', default: '15012', help: 'PORT  control plane CA + mTLS xDS' },
      'admin-port': { type: 'string', default: '15014', help: 'PORT  control plane admin and dashboard' },
      'control-plane-replicas': { type: 'string', default: '1', help: 'N  control-plane replicas (1–5; replica k listens on each port + 100·k), one leader among them (try dev kill-leader)' },
      ...Object.fromEntries(LEASE_FLAGS.map((k) => [k, { type: 'string' as const, ...LEADER_ELECTION_FLAG_HELP[k] }])),
    },
    run: async (args, io) => meshUp(args, io),
  },
  {
    path: ['dev', 'kill-leader'],
    summary: 'end the leading control-plane replica of the running playground as a crash would (its Lease is not released) and start a replacement: watch another take over',
    flags: { 'state-dir': { type: 'string', default: STATE_DIR, help: 'DIR  state of the running playground' } },
    run: async (args, io) => killLeader(args, io),
  },
  {
    path: ['dev', 'failover'],
    summary: 'take a region of the running playground down: its echo workloads, gateways and API servers stop answering',
    flags: { region: { type: 'string', help: 'REGION  region to take down' }, 'state-dir': { type: 'string', default: STATE_DIR, help: 'DIR  state of the running playground' } },
    run: async (args, io) => regionCommand(args, io, 'failover'),
  },
  {
    path: ['dev', 'restore'],
    summary: 'bring a region of the running playground back',
    flags: { region: { type: 'string', help: 'REGION  region to bring back' }, 'state-dir': { type: 'string', default: STATE_DIR, help: 'DIR  state of the running playground' } },
    run: async (args, io) => regionCommand(args, io, 'restore'),
  },
  {
    path: ['dev', 'call'],
    summary: 'send one request from a cluster\'s sleep pod through its sidecar and print who answered (curl-like -X, -H, -d)',
    usage: '[SERVICE[:PORT][/PATH] | http://HOST:PORT/PATH] [--from CLUSTER] [-X METHOD] [-H "NAME: VALUE"]… [-d BODY]',
    positionals: true,
    flags: {
      from: { type: 'string', help: 'CLUSTER  client cluster (default: the first cluster of the topology)' },
      method: { type: 'string', short: 'X', help: 'METHOD  HTTP method (default: GET, or POST with --data)' },
      header: { type: 'string', short: 'H', multiple: true, help: '"NAME: VALUE"  a request header (repeatable)' },
      data: { type: 'string', short: 'd', help: 'BODY  request body' },
      'state-dir': { type: 'string', default: STATE_DIR, help: 'DIR  state of the running playground' },
    },
    run: async (args, io) => devCall(args, io),
  },
];
