// `meshfed control-plane`: federation + CA + pilot + admin in one process.
import { parseFailoverFlag } from '../../controlplane/failoverFlag.ts';
import { bool, int, requireStr, str, UsageError, UserError, type Command } from '../command.ts';
import { availableParallelism } from 'node:os';
import { untilSignal } from '../signals.ts';
import { loadTopologyFile } from '../topologyFile.ts';
import { LEADER_ELECTION_FLAG_HELP, leaderElectionFromFlags, type LeaderElectionFlags } from '../../controlplane/leaderElectionFlags.ts';

/**
 * Where the admin server (15014: /debug/*, /metrics, the dashboard — no authentication) listens unless told:
 * loopback on a workstation; every address inside a pod ($KUBERNETES_SERVICE_HOST is set there), where kubelet
 * probes and Prometheus reach it through the pod IP and the Service keeps it cluster-internal.
 */
export function defaultAdminAddress(env: NodeJS.ProcessEnv = process.env): string {
  return env.KUBERNETES_SERVICE_HOST ? '0.0.0.0' : '127.0.0.1';
}

// one signing thread pays once there is a second core: 2,818 → 4,385 certificates/s in bench/ca on 2 cores
const defaultSigningWorkers = (): number => (availableParallelism() > 1 ? 1 : 0);

export const controlPlaneCommands: Command[] = [
  {
    path: ['control-plane'],
    summary: 'run the control plane: federation (discovery + replication), the shared CA, pilot (xDS) and the admin server',
    flags: {
      kubeconfig: { type: 'string', help: 'FILE  kubeconfig of the control plane\'s own cluster, where registration Secrets live (default: $KUBECONFIG, ~/.kube/config or in-cluster)' },
      context: { type: 'string', help: 'CTX  kubeconfig context' },
      'cluster-name': { type: 'string', help: 'NAME  also federate the control plane\'s own cluster under this name (needs --network and --region)' },
      network: { type: 'string', help: 'NET  network of the own cluster' },
      region: { type: 'string', help: 'REGION  region of the own cluster' },
      topology: { type: 'string', help: 'FILE  topology file: failover order, and the own cluster\'s name/network/region from its controlPlane entry' },
      failover: { type: 'string', help: 'REGION=NEXT[,NEXT];…  failover order (overrides the topology file), e.g. us-east=us-west;us-west=us-east' },
      'federate-all': { type: 'boolean', help: 'federate every non-system namespace (default: only namespaces labelled meshfed.io/federation=enabled)' },
      'trust-domain': { type: 'string', default: 'cluster.local', help: 'TD  SPIFFE trust domain' },
      'ca-dir': { type: 'string', help: 'DIR  Istio plug-in CA files (ca-cert.pem, ca-key.pem, cert-chain.pem, root-cert.pem); default: the cacerts Secret, else a development root' },
      host: { type: 'string', default: '0.0.0.0', help: 'ADDR  address of xDS (plaintext: trusted networks only) and of the CA + mTLS xDS' },
      'admin-address': { type: 'string', help: `ADDR  address of the admin server, which has no authentication (default: ${defaultAdminAddress()} here — 127.0.0.1 outside a pod, 0.0.0.0 inside one, where $KUBERNETES_SERVICE_HOST is set, for probes and scrapes)` },
      'xds-port': { type: 'string', default: '15010', help: 'PORT  plaintext xDS' },
      'secure-port': { type: 'string', default: '15012', help: 'PORT  CA and mTLS xDS' },
      'admin-port': { type: 'string', default: '15014', help: 'PORT  admin: /healthz /readyz /metrics /debug/* /events, dashboard' },
      'ca-signing-workers': { type: 'string', help: `N  CA: verify CSRs and sign on N worker threads, beside the gRPC/TLS thread (default: ${defaultSigningWorkers()} here — 1 on a multi-core machine, else 0)` },
      ...Object.fromEntries(Object.entries(LEADER_ELECTION_FLAG_HELP).map(([k, v]) => [k, { type: 'string' as const, help: `${v.help}${v.default ? ` (default ${v.default})` : ''}` }])),
    },
    run: async (args, io) => {
      const { loadKubeConfigFlag } = await import('../kubeconfigFlag.ts');
      const kubeConfig = loadKubeConfigFlag(str(args, 'kubeconfig'), str(args, 'context'));
      const topology = str(args, 'topology') ? loadTopologyFile(requireStr(args, 'topology')) : undefined;
      let failover: Record<string, string[]> | undefined = topology?.failover;
      if (str(args, 'failover')) {
        try { failover = parseFailoverFlag(requireStr(args, 'failover')); } catch (e) { throw new UserError((e as Error).message); }
      }
      let local: { name: string; network: string; region: string } | undefined;
      const own = topology?.clusters.find((c) => c.name === topology.controlPlane);
      const name = str(args, 'cluster-name') ?? own?.name;
      if (name) {
        const network = str(args, 'network') ?? own?.network;
        const region = str(args, 'region') ?? own?.region;
        if (!network || !region) throw new UserError(`--cluster-name ${name} needs --network and --region`);
        local = { name, network, region };
      }
      let leaderElection;
      try {
        leaderElection = leaderElectionFromFlags(Object.fromEntries(Object.keys(LEADER_ELECTION_FLAG_HELP).map((k) => [k, str(args, k)])) as LeaderElectionFlags);
      } catch (e) { throw new UsageError((e as Error).message); }
      const signingWorkers = int(args, 'ca-signing-workers', defaultSigningWorkers());
      if (signingWorkers < 0) throw new UsageError(`--ca-signing-workers must be 0 or more, got ${signingWorkers}`);
      // loaded on use: the control plane pulls in gRPC, client-node and the CA; other commands start faster without them
      const { startControlPlane } = await import('../../controlplane/controlPlane.ts');
      const cp = await startControlPlane({
        kubeConfig,
        ...(local ? { local } : {}),
        ...(failover ? { failover } : {}),
        federateAll: bool(args, 'federate-all'),
        trustDomain: requireStr(args, 'trust-domain'),
        ...(str(args, 'ca-dir') ? { caDir: requireStr(args, 'ca-dir') } : {}),
        host: requireStr(args, 'host'),
        adminHost: str(args, 'admin-address') ?? defaultAdminAddress(),
        caSigningWorkers: signingWorkers,
        leaderElection,
        ports: { xds: int(args, 'xds-port', 15010), secure: int(args, 'secure-port', 15012), admin: int(args, 'admin-port', 15014) },
        onProgress: (l) => io.err(l),
      }).catch((e: unknown) => { throw new UserError(`control plane failed to start: ${(e as Error).message}`); });
      io.out(JSON.stringify({ xds: cp.ports.xds, secure: cp.ports.secure, admin: cp.ports.admin, ca: cp.caSource, ...(cp.elector ? { replica: cp.elector.identity } : {}) }));
      const sig = await untilSignal();
      io.err(`${sig}: stopping the control plane…`);
      await cp.stop();
      return 0;
    },
  },
];
