// `meshfed install` and `meshfed kind …`: running meshfed in real clusters.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { kindConfigFile, kindPlan, renderPlan, type PlanStep } from '../../deploy/kind.ts';
import { controlPlaneManifests, demoManifests, gatewayManifests, type K8sObject } from '../../deploy/manifests.ts';
import { DEFAULT_TOPOLOGY, loadTopologyFile } from '../topologyFile.ts';
import { bool, requireStr, str, UsageError, UserError, type Command, type CommandIO } from '../command.ts';



function renderObjects(component: string, args: { values: Record<string, unknown> }): K8sObject[] {
  const image = (args.values.image as string | undefined) ?? undefined;
  switch (component) {
    case 'control-plane': {
      const r = args.values.replicas as string | undefined;
      const replicas = r === undefined ? undefined : Number(r);
      if (replicas !== undefined && !(Number.isInteger(replicas) && replicas >= 1)) throw new UsageError(`--replicas must be a whole number of at least 1, got ${JSON.stringify(r)}`);
      return controlPlaneManifests({ ...(image ? { image } : {}), ...(replicas ? { replicas } : {}), ...(args.values['expose-plaintext-xds'] === true ? { exposePlaintextXds: true } : {}) });
    }
    case 'gateway': {
      const network = args.values.network as string | undefined;
      const region = args.values.region as string | undefined;
      if (!network || !region) throw new UsageError('install --component gateway needs --network and --region');
      return gatewayManifests({ network, region, ...(image ? { image } : {}), ...(args.values.xds ? { xds: args.values.xds as string } : {}) });
    }
    case 'demo': {
      const cluster = args.values.cluster as string | undefined;
      if (!cluster) throw new UsageError('install --component demo needs --cluster (the member cluster name its sidecars announce)');
      return demoManifests({ cluster, ...(image ? { image } : {}) });
    }
    default:
      throw new UsageError(`--component must be control-plane, gateway or demo, got ${JSON.stringify(component)}`);
  }
}

async function runPlan(steps: PlanStep[], io: CommandIO): Promise<number> {
  for (const [i, s] of steps.entries()) {
    io.out(`[${i + 1}/${steps.length}] ${s.say}`);
    if (s.kind === 'run') {
      const code = await new Promise<number>((resolve) => {
        const child = spawn(s.argv[0]!, s.argv.slice(1), { stdio: ['ignore', s.stdoutTo ? 'pipe' : 'inherit', 'inherit'] });
        if (s.stdoutTo) child.stdout!.pipe(createWriteStream(s.stdoutTo));
        child.on('error', (e) => {
          io.err(`meshfed: ${s.argv[0]}: ${e.message}`);
          resolve(127);
        });
        child.on('close', (c) => resolve(c ?? 1));
      });
      if (code !== 0) throw new UserError(`step ${i + 1} failed (${s.argv.join(' ')} exited ${code}); fix it and run "meshfed kind up" again — finished steps are safe to repeat`);
    } else {
      const k8s = await import('@kubernetes/client-node');
      const { applyObjects } = await import('../../deploy/apply.ts');
      const kc = new k8s.KubeConfig();
      kc.loadFromDefault();
      kc.setCurrentContext(s.context);
      await applyObjects(kc, s.objects, (r) => io.out(`  ${r.object} ${r.outcome}`));
    }
  }
  return 0;
}

export const deployCommands: Command[] = [
  {
    path: ['install'],
    summary: 'apply meshfed manifests (control plane, east-west gateway or demo) to a cluster with server-side apply',
    flags: {
      kubeconfig: { type: 'string', help: 'FILE  kubeconfig of the target cluster (default: $KUBECONFIG / ~/.kube/config)' },
      context: { type: 'string', help: 'CTX  kubeconfig context' },
      component: { type: 'string', default: 'control-plane', help: 'control-plane | gateway | demo' },
      network: { type: 'string', help: 'NET  gateway: its network' },
      region: { type: 'string', help: 'R  gateway: its region' },
      cluster: { type: 'string', help: 'ID  demo: the member cluster name' },
      xds: { type: 'string', help: 'ADDR  gateway: the control plane xDS address' },
      replicas: { type: 'string', help: 'N  control-plane: replicas (default 2; one elected leader writes, all serve xDS and the CA)' },
      image: { type: 'string', help: 'IMAGE  meshfed image (default meshfed:dev)' },
      'expose-plaintext-xds': { type: 'boolean', help: 'control-plane: also publish plaintext xDS (15010) on node port 31010 for remote clusters — trusted networks only, it has no authentication (default: 15010 is cluster-internal; remote clusters get the CA and mTLS xDS on node port 31012)' },
      'dry-run': { type: 'boolean', help: 'print the manifests instead of applying them' },
    },
    run: async (args, io) => {
      const objects = renderObjects(str(args, 'component') ?? 'control-plane', args);
      if (bool(args, 'dry-run')) {
        io.out(objects.map((o) => stringify(o)).join('---\n'));
        return 0;
      }
      const { loadKubeConfigFlag } = await import('../kubeconfigFlag.ts');
      const { applyObjects } = await import('../../deploy/apply.ts');
      const kc = loadKubeConfigFlag(str(args, 'kubeconfig'), str(args, 'context'));
      try {
        await applyObjects(kc, objects, (r) => io.out(`${r.object} ${r.outcome}`));
      } catch (e) {
        throw new UserError((e as Error).message);
      }
      return 0;
    },
  },
  {
    path: ['kind', 'configs'],
    summary: 'write kind-configs/<cluster>.yaml for every cluster of the topology',
    flags: {
      topology: { type: 'string', default: DEFAULT_TOPOLOGY, help: 'FILE  topology file' },
      out: { type: 'string', default: 'kind-configs', help: 'DIR  where to write them' },
    },
    run: async (args, io) => {
      const t = loadTopologyFile(requireStr(args, 'topology'));
      const out = requireStr(args, 'out');
      mkdirSync(out, { recursive: true });
      for (const c of t.clusters) {
        const f = join(out, `${c.name}.yaml`);
        writeFileSync(f, kindConfigFile(c));
        io.out(`wrote ${f}`);
      }
      return 0;
    },
  },
  {
    path: ['kind', 'up'],
    summary: 'create kind clusters from the topology, install meshfed, register the clusters, deploy the demo',
    flags: {
      topology: { type: 'string', default: DEFAULT_TOPOLOGY, help: 'FILE  topology file' },
      configs: { type: 'string', default: 'kind-configs', help: 'DIR  kind cluster configs' },
      'work-dir': { type: 'string', default: '.meshfed/kind', help: 'DIR  where kubeconfigs are written' },
      image: { type: 'string', default: 'meshfed:dev', help: 'IMAGE  image to build and load' },
      'dry-run': { type: 'boolean', help: 'print every command and manifest instead of running them' },
    },
    run: async (args, io) => {
      const t = loadTopologyFile(requireStr(args, 'topology'));
      const steps = kindPlan(t, { configDir: requireStr(args, 'configs'), workDir: requireStr(args, 'work-dir'), image: requireStr(args, 'image') });
      if (bool(args, 'dry-run')) {
        io.out(renderPlan(steps));
        return 0;
      }
      mkdirSync(requireStr(args, 'work-dir'), { recursive: true });
      return runPlan(steps, io);
    },
  },
];
