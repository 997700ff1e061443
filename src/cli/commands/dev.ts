// `meshfed dev …`: the local Kubernetes API stand-ins and the multi-cluster playground (never used by product code).
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { startPlayground, writeKubeconfig } from '../../devcluster/playground.ts';
import { startSecureApiServer } from '../../devcluster/secure.ts';
import { removeState, runningPlayground, writeState } from '../../devcluster/playground/lock.ts';
import { untilSignal } from '../signals.ts';
import { DEFAULT_TOPOLOGY, loadTopologyFile } from '../topologyFile.ts';
import { hostPort, requireStr, str, UserError, type Command, type CommandIO } from '../command.ts';

const STATE_DIR = '.meshfed/playground';



async function clustersUp(topologyFile: string, kubeconfigOut: string, io: CommandIO, playground: boolean): Promise<number> {
  const t = loadTopologyFile(topologyFile);
  const stateFile = `${STATE_DIR}/state.json`;
  if (playground) {
    const running = runningPlayground(stateFile);
    if (running) throw new UserError(`a playground is already running (pid ${running.pid}, kubeconfig ${running.kubeconfig}); stop it with Ctrl-C in its terminal or "kill ${running.pid}"`);
  }
  io.out(`starting ${t.clusters.length} clusters from ${topologyFile}…`);
  let n = 0;
  const running = await startPlayground(t, { onProgress: (l) => io.out(`  ${l} [${++n}/${t.clusters.length}]`) });
  writeKubeconfig(kubeconfigOut, running.servers, t.controlPlane);
  if (playground) {
    writeState(stateFile, { pid: process.pid, startedAt: new Date().toISOString(), control: '', kubeconfig: resolve(kubeconfigOut), admin: '', contexts: t.clusters.map((c) => c.name) });
  }
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
  if (playground) removeState(stateFile);
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
      const server = await startSecureApiServer({ name, host, port, serviceCidr: requireStr(args, 'service-cidr'), ...(dataDir ? { dataDir } : {}) });
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
    run: async (args, io) => clustersUp(requireStr(args, 'topology'), requireStr(args, 'kubeconfig-out'), io, false),
  },
  {
    path: ['dev', 'up'],
    summary: 'start the local multi-cluster playground from clusters/playground.yaml (what `npm start` runs)',
    flags: {
      topology: { type: 'string', default: DEFAULT_TOPOLOGY, help: 'FILE  topology file' },
      'kubeconfig-out': { type: 'string', default: `${STATE_DIR}/kubeconfig`, help: 'FILE  where to write the kubeconfig' },
    },
    run: async (args, io) => clustersUp(requireStr(args, 'topology'), requireStr(args, 'kubeconfig-out'), io, true),
  },
];
