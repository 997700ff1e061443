// `meshfed cluster add | list | remove`: registration of member clusters with the control plane.
import type * as k8s from '@kubernetes/client-node';
import { bool, hostPort, requireStr, str, UsageError, UserError, type Command } from '../command.ts';
import { LABELS, SYSTEM_NAMESPACE } from '../../federation/labels.ts';
import { getJson } from '../../admin/status.ts';
import { table } from '../../admin/views.ts';
import type { ClusterStatus } from '../../mesh/types.ts';
import { OUTPUT_FLAG, outputFormat, printOutput } from '../output.ts';

const controlPlaneFlags = {
  'config-kubeconfig': { type: 'string', help: 'FILE  kubeconfig of the control plane\'s cluster, where registrations are stored (default: $KUBECONFIG / ~/.kube/config)' },
  'config-context': { type: 'string', help: 'CTX  its context' },
} as const;

const asUserError = (e: unknown): never => {
  if (e instanceof UserError) throw e;
  throw new UserError((e as Error).message);
};

export const clusterCommands: Command[] = [
  {
    path: ['cluster', 'add'],
    summary: 'register a remote cluster: create a narrow reader identity there and store its token (only) in the control plane',
    usage: '--kubeconfig FILE [--context CTX] [--name ID] [--network NET] [--region R] [--config-kubeconfig FILE] [--dry-run -o yaml]\n\n'
      + 'Verifies first, in order: the server answers (5 s), your rights there (SelfSubjectAccessReview), the name is free, and the cluster\n'
      + '(kube-system uid) is not registered under another name. Then creates in the remote cluster namespace meshfed-system, ServiceAccount\n'
      + 'and ClusterRole/Binding meshfed-reader (server-side apply, field manager meshfed), mints a bound token for it (TokenRequest, valid\n'
      + '1 year: bound tokens must expire and never-expiring token Secrets are deprecated since Kubernetes 1.24; an API server may cap it at\n'
      + '--service-account-max-token-expiration, the expiry is printed; renew with "meshfed cluster remove NAME" and add again), and stores a\n'
      + 'kubeconfig holding only that token as Secret meshfed-system/meshfed-remote-NAME in the control-plane cluster.\n'
      + 'A failure after the first write removes what this run created (never what existed before).',
    flags: {
      kubeconfig: { type: 'string', help: 'FILE  the operator\'s kubeconfig of the REMOTE cluster (needs rights to create RBAC there)' },
      context: { type: 'string', help: 'CTX  context in that kubeconfig (default: its current context)' },
      name: { type: 'string', help: 'ID  cluster name in the mesh (default: the context name)' },
      network: { type: 'string', help: 'NET  its network (default: label topology.istio.io/network on kube-system or the nodes)' },
      region: { type: 'string', help: 'R  its region (default: label topology.kubernetes.io/region on the nodes)' },
      ...controlPlaneFlags,
      'dry-run': { type: 'boolean', help: 'verify, then print the registration Secret and write NOTHING anywhere — unlike istioctl create-remote-secret, not even the reader identity in the remote cluster, so the token is a placeholder: commit the Secret, create the identity there with your GitOps tool, and put `kubectl -n meshfed-system create token meshfed-reader --duration=8760h` in its place' },
      output: { type: 'string', short: 'o', default: 'yaml', help: 'yaml  output format of --dry-run' },
    },
    run: async (args, io) => {
      const { loadKubeConfigFlag } = await import('../kubeconfigFlag.ts');
      const { registerCluster } = await import('../../federation/register.ts');
      const remote = loadKubeConfigFlag(requireStr(args, 'kubeconfig'), str(args, 'context'), 'remote kubeconfig');
      const controlPlane = loadKubeConfigFlag(str(args, 'config-kubeconfig'), str(args, 'config-context'), 'control-plane kubeconfig');
      if (str(args, 'output') !== 'yaml') throw new UserError(`-o ${str(args, 'output')}: only yaml is supported`);
      const name = str(args, 'name') ?? remote.getCurrentContext();
      const r = await registerCluster({
        remote, name, controlPlane, dryRun: bool(args, 'dry-run'),
        ...(str(args, 'network') ? { network: requireStr(args, 'network') } : {}),
        ...(str(args, 'region') ? { region: requireStr(args, 'region') } : {}),
        onProgress: (l) => io.err(l),
      }).catch(asUserError);
      if (bool(args, 'dry-run')) {
        const { stringData, ...rest } = r.secret;
        const { stringify } = await import('yaml');
        io.out(stringify({ ...rest, stringData }).trimEnd());
        return 0;
      }
      io.out(`cluster ${name} registered (${r.registration.server}, network ${r.registration.network}, region ${r.registration.region})`);
      return 0;
    },
  },
  {
    path: ['cluster', 'list'],
    summary: 'list registered clusters with their live state from the control plane',
    flags: {
      ...controlPlaneFlags,
      admin: { type: 'string', default: '127.0.0.1:15014', help: 'HOST:PORT  the control plane\'s admin server (live state)' },
      output: OUTPUT_FLAG,
    },
    run: async (args, io) => {
      const { loadKubeConfigFlag } = await import('../kubeconfigFlag.ts');
      const k8s = await import('@kubernetes/client-node');
      const { clusterRows } = await import('../../federation/clusterList.ts');
      const format = outputFormat(args);
      const controlPlane = loadKubeConfigFlag(str(args, 'config-kubeconfig'), str(args, 'config-context'), 'control-plane kubeconfig');
      const { host, port } = hostPort(requireStr(args, 'admin'), 'admin');
      let live: ClusterStatus[] | undefined;
      let why = '';
      try { live = await getJson<ClusterStatus[]>(`http://${host}:${port}`, '/debug/clusters'); } catch { why = `control plane not reachable at ${host}:${port}`; }
      const secrets = await controlPlane.makeApiClient(k8s.CoreV1Api).listNamespacedSecret({ namespace: SYSTEM_NAMESPACE, labelSelector: `${LABELS.multicluster}=true` })
        .then((l) => l.items)
        .catch((e: unknown) => {
          if ((e as { code?: number }).code === 404) return [];
          const msg = `cannot read registrations from the control-plane cluster ${controlPlane.getCurrentCluster()?.server}: ${((e as Error).message ?? '').split('\n')[0]}`;
          if (!live) throw new UserError(msg);
          io.err(`warning: ${msg}; showing the control plane's live view only`);
          return [];
        });
      const rows = clusterRows(secrets, live, why);
      await printOutput(format, rows, () => (rows.length === 0 ? 'no clusters registered: add one with "meshfed cluster add --kubeconfig FILE"'
        : table(['NAME', 'SERVER', 'NETWORK', 'REGION', 'STATE', 'SERVICES', 'ENDPOINTS', 'LAST SYNC', 'REASON'],
          rows.map((r) => [r.name, r.server, r.network, r.region, r.state, r.services, r.endpoints, r.lastSync, r.reason]))), io.out);
      return 0;
    },
  },
  {
    path: ['cluster', 'remove'],
    summary: 'stop federating a cluster (deletes its registration); --purge also removes what meshfed created in it',
    usage: 'NAME [--purge --kubeconfig FILE [--context CTX]]',
    positionals: true,
    flags: {
      ...controlPlaneFlags,
      purge: { type: 'boolean', help: 'also delete meshfed\'s reader identity, replicas and empty meshfed namespaces in that cluster' },
      kubeconfig: { type: 'string', help: 'FILE  operator kubeconfig of the removed cluster (for --purge)' },
      context: { type: 'string', help: 'CTX  its context' },
    },
    run: async (args, io) => {
      const name = args.positionals[0];
      if (!name || args.positionals.length > 1) throw new UsageError('usage: meshfed cluster remove NAME [--purge --kubeconfig FILE]');
      const { loadKubeConfigFlag } = await import('../kubeconfigFlag.ts');
      const { unregisterCluster } = await import('../../federation/unregister.ts');
      const controlPlane = loadKubeConfigFlag(str(args, 'config-kubeconfig'), str(args, 'config-context'), 'control-plane kubeconfig');
      let purge: k8s.KubeConfig | undefined;
      if (bool(args, 'purge')) {
        if (!str(args, 'kubeconfig')) throw new UserError('--purge needs --kubeconfig FILE: the operator\'s kubeconfig of that cluster (the stored token may not delete RBAC)');
        purge = loadKubeConfigFlag(str(args, 'kubeconfig'), str(args, 'context'), 'remote kubeconfig');
      }
      await unregisterCluster({ controlPlane, name, ...(purge ? { purge } : {}), onProgress: (l) => io.err(l) }).catch(asUserError);
      io.out(`cluster ${name} removed${purge ? ' and purged' : ''}`);
      return 0;
    },
  },
];
