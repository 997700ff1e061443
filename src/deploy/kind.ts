// The kind harness for real multi-cluster runs on a machine with Docker: kind Cluster configs derived from the
// topology file, and the plan `meshfed kind up` executes (pure: topology in, configs and steps out).
import { stringify } from 'yaml';
import { controlPlaneManifests, demoManifests, gatewayManifests, type K8sObject } from './manifests.ts';

/** The part of a topology file the kind harness reads (structurally compatible with the full topology). */
export interface KindTopology {
  controlPlane: string;
  clusters: ReadonlyArray<{ name: string; region: string; zones: readonly string[]; network: string; serviceCIDR: string; kindPodSubnet?: string }>;
  gateways: ReadonlyArray<{ network: string; region: string; cluster: string }>;
}

export function kindClusterConfig(c: KindTopology['clusters'][number]): Record<string, unknown> {
  if (!c.kindPodSubnet) throw new Error(`cluster ${c.name}: kindPodSubnet is missing in the topology file (kind pods cannot use loopback addresses)`);
  const nodeLabels = (zone: string) => ({
    'topology.kubernetes.io/region': c.region,
    'topology.kubernetes.io/zone': zone,
    'topology.istio.io/network': c.network,
  });
  return {
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    name: c.name,
    networking: {
      podSubnet: c.kindPodSubnet,
      serviceSubnet: c.serviceCIDR,
    },
    nodes: [
      { role: 'control-plane', labels: nodeLabels(c.zones[0]!) },
      ...c.zones.map((z) => ({ role: 'worker', labels: nodeLabels(z) })),
    ],
  };
}

export function kindConfigFile(c: KindTopology['clusters'][number]): string {
  return (
    `# Generated from clusters/playground.yaml by \`meshfed kind configs\` — edit the topology, not this file.\n` +
    `# The API server is reached from the other kind clusters over the shared "kind" Docker network\n` +
    `# (kubeconfig from \`kind get kubeconfig --internal --name ${c.name}\`).\n` +
    stringify(kindClusterConfig(c))
  );
}

export type PlanStep =
  | { kind: 'run'; say: string; argv: string[]; stdoutTo?: string }
  | { kind: 'apply'; say: string; context: string; objects: K8sObject[] };

export function kindContext(cluster: string): string {
  return `kind-${cluster}`;
}

/** Every step of `meshfed kind up`, in order. */
export function kindPlan(t: KindTopology, opts: { configDir: string; workDir: string; image?: string }): PlanStep[] {
  const image = opts.image ?? 'meshfed:dev';
  const cp = t.clusters.find((c) => c.name === t.controlPlane);
  if (!cp) throw new Error(`controlPlane "${t.controlPlane}" is not a cluster of the topology`);
  const cpKubeconfig = `${opts.workDir}/${cp.name}.kubeconfig`;
  // the control plane is reached by remote clusters through its node address; gateways and sidecars there use it
  const xdsRemote = `${cp.name}-control-plane:31010`;
  const steps: PlanStep[] = [
    { kind: 'run', say: `build the meshfed image ${image}`, argv: ['docker', 'build', '-f', 'deploy/Dockerfile', '-t', image, '.'] },
  ];
  for (const c of t.clusters) {
    steps.push({ kind: 'run', say: `create kind cluster ${c.name} (${c.region}, ${c.network})`, argv: ['kind', 'create', 'cluster', '--name', c.name, '--config', `${opts.configDir}/${c.name}.yaml`] });
    steps.push({ kind: 'run', say: `load ${image} into ${c.name}`, argv: ['kind', 'load', 'docker-image', image, '--name', c.name] });
  }
  // kind's clusters share one docker network on this host (a trusted network), and the proxies speak plaintext xDS
  // only: publish 15010 on the control plane's node for the remote clusters' gateways and sidecars
  steps.push({ kind: 'apply', say: `install the control plane in ${cp.name}`, context: kindContext(cp.name), objects: controlPlaneManifests({ image, exposePlaintextXds: true }) });
  steps.push({ kind: 'run', say: `write ${cp.name}'s kubeconfig`, argv: ['kind', 'get', 'kubeconfig', '--name', cp.name], stdoutTo: cpKubeconfig });
  for (const c of t.clusters) {
    const internal = `${opts.workDir}/${c.name}.internal.kubeconfig`;
    steps.push({ kind: 'run', say: `write ${c.name}'s kubeconfig as the control plane sees it`, argv: ['kind', 'get', 'kubeconfig', '--internal', '--name', c.name], stdoutTo: internal });
    steps.push({
      kind: 'run',
      say: `register ${c.name} with the control plane`,
      argv: ['meshfed', 'cluster', 'add', '--kubeconfig', internal, '--name', c.name, '--network', c.network, '--region', c.region, '--config-kubeconfig', cpKubeconfig],
    });
  }
  for (const g of t.gateways) {
    const xds = g.cluster === cp.name ? undefined : xdsRemote;
    steps.push({ kind: 'apply', say: `install the east-west gateway of ${g.network} (${g.region}) in ${g.cluster}`, context: kindContext(g.cluster), objects: gatewayManifests({ network: g.network, region: g.region, image, ...(xds ? { xds } : {}) }) });
    // kind has no load balancer: publish the gateway on its node's address on the kind network instead
    steps.push({
      kind: 'run',
      say: `publish the ${g.network} gateway on ${g.cluster}'s node address`,
      argv: ['sh', '-c', `ip=$(docker inspect -f '{{.NetworkSettings.Networks.kind.IPAddress}}' ${g.cluster}-control-plane) && kubectl --context ${kindContext(g.cluster)} -n meshfed-system patch service meshfed-eastwestgateway --type merge -p "{\\"spec\\":{\\"externalIPs\\":[\\"$ip\\"]}}"`],
    });
  }
  for (const c of t.clusters) {
    const remote = c.name === cp.name ? {} : { xds: xdsRemote, ca: `${cp.name}-control-plane:31012` };
    steps.push({ kind: 'apply', say: `deploy the echo demo in ${c.name}`, context: kindContext(c.name), objects: demoManifests({ cluster: c.name, image, ...remote }) });
  }
  return steps;
}

/** The plan as a user reads it (--dry-run): every command and every manifest. */
export function renderPlan(steps: PlanStep[]): string {
  return steps
    .map((s, i) => {
      const head = `# ${i + 1}. ${s.say}`;
      if (s.kind === 'run') return `${head}\n${s.argv.map(shellQuote).join(' ')}${s.stdoutTo ? ` > ${shellQuote(s.stdoutTo)}` : ''}`;
      return `${head}\nkubectl --context ${s.context} apply --server-side --field-manager meshfed -f - <<'EOF'\n${s.objects.map((o) => stringify(o)).join('---\n')}EOF`;
    })
    .join('\n\n');
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
