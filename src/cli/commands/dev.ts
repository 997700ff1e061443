// `meshfed dev …`: the local Kubernetes API stand-in and the multi-cluster playground.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, type CommandIO, type ParsedArgs, hostPort, requireStr, str, UserError } from '../command.ts';
import { startPlayground, writeKubeconfig } from '../../devcluster/playground.ts';
import { startSecureApiServer } from '../../devcluster/secure.ts';
import { parseTopology, TopologyError } from '../../devcluster/topology.ts';

/** Resolve when SIGINT or SIGTERM arrives. */
function untilSignal(): Promise<string> {
  return new Promise((res) => {
    const on = (sig: string) => { process.off('SIGINT', onInt); process.off('SIGTERM', onTerm); res(sig); };
    const onInt = () => on('SIGINT');
    const onTerm = () => on('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
}

async function clustersUp(args: ParsedArgs, io: CommandIO): Promise<number> {
  const file = str(args, 'topology') ?? 'clusters/playground.yaml';
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read topology ${file}: ${(e as Error).message} (pass --topology FILE)`);
  }
  let topology;
  try {
    topology = parseTopology(text, file);
  } catch (e) {
    if (e instanceof TopologyError) throw new UserError(e.message);
    throw e;
  }
  const out = resolve(str(args, 'kubeconfig-out') ?? '.meshfed/dev/kubeconfig');
  io.err(`starting ${topology.clusters.length} cluster(s) from ${file}`);
  const pg = await startPlayground(topology, { dataDir: str(args, 'data-dir'), onProgress: (l) => io.err(l) });
  writeKubeconfig(out, pg.servers, topology.controlPlane);
  io.out(`kubeconfig: ${out}`);
  for (const s of pg.servers) io.out(`  context ${s.name}: ${s.url}`);
  io.out(`try: kubectl --kubeconfig ${out} --context ${pg.servers[0].name} get nodes -L topology.kubernetes.io/zone`);
  io.out('press Ctrl-C to stop');
  const sig = await untilSignal();
  io.err(`${sig}: stopping ${pg.servers.length} cluster(s)`);
  await pg.close();
  return 0;
}

const upFlags = {
  topology: { type: 'string', help: 'FILE  topology to start (default clusters/playground.yaml)' },
  'kubeconfig-out': { type: 'string', help: 'FILE  where to write the kubeconfig (default .meshfed/dev/kubeconfig)' },
  'data-dir': { type: 'string', help: 'DIR  keep cluster state here across restarts' },
} as const;

export const devCommands: Command[] = [
  {
    path: ['dev', 'apiserver'],
    summary: 'run one local Kubernetes API stand-in until Ctrl-C',
    flags: {
      name: { type: 'string', help: 'NAME  cluster name (required)' },
      listen: { type: 'string', help: 'HOST:PORT  where to listen (default 127.0.0.1:0, the OS picks the port)' },
      'kubeconfig-out': { type: 'string', help: 'FILE  where to write the kubeconfig (default .meshfed/dev/<name>.kubeconfig)' },
      'data-dir': { type: 'string', help: 'DIR  keep cluster state here across restarts' },
      'service-cidr': { type: 'string', help: 'CIDR  ClusterIP range (default 10.96.0.0/16)' },
    },
    run: async (args, io) => {
      const name = requireStr(args, 'name');
      const { host, port } = hostPort(str(args, 'listen') ?? '127.0.0.1:0', 'listen');
      const out = resolve(str(args, 'kubeconfig-out') ?? `.meshfed/dev/${name}.kubeconfig`);
      const s = await startSecureApiServer({ name, host, port, dataDir: str(args, 'data-dir'), serviceCidr: str(args, 'service-cidr') });
      writeKubeconfig(out, [s]);
      io.out(`cluster ${name} listening on ${s.url}`);
      io.out(`kubeconfig: ${out}`);
      io.out(`try: kubectl --kubeconfig ${out} get namespaces`);
      const sig = await untilSignal();
      io.err(`${sig}: stopping cluster ${name}`);
      await s.close();
      return 0;
    },
  },
  {
    path: ['dev', 'clusters', 'up'],
    summary: 'start one API stand-in per cluster of a topology, write one kubeconfig, run until Ctrl-C',
    flags: { ...upFlags },
    run: clustersUp,
  },
  {
    path: ['dev', 'up'],
    summary: 'start the local playground (for now: the same as `dev clusters up`)',
    flags: { ...upFlags },
    run: clustersUp,
  },
];
