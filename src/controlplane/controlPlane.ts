// `meshfed control-plane`: one process with federation (discovery + replication), the shared CA, pilot (xDS) and the
// admin server — like istiod. 15010 plaintext xDS, 15012 TLS (CA + mTLS xDS on one server), 15014 admin.
import * as grpc from '@grpc/grpc-js';
import { Federation } from '../federation/federation.ts';
import * as k8s from '@kubernetes/client-node';
import { servingCredentials } from '../ca/serving.ts';
import { loadSigningCa } from '../ca/files.ts';
import { BundlePublisher } from '../ca/bundle.ts';
import { CaServer } from '../ca/server.ts';
import { CachingReviewer, KubeTokenReviewer } from '../ca/reviewer.ts';
import { Pilot } from '../pilot/server.ts';
import { startAdminServer, type AdminServer } from '../admin/server.ts';
import type { ScrapeTarget } from '../admin/sources.ts';
import { EventBus } from '../observe/events.ts';
import { newRegistry } from '../observe/metrics.ts';
import { createLogger } from '../log.ts';
import { controlPlaneSources } from './adminSources.ts';
import { PolicyWatcher } from '../policy/watcher.ts';
import { compilePolicy } from '../pilot/policy.ts';
import { SecurityWatcher } from '../security/watcher.ts';
import { compileSecurity } from '../security/pilotResources.ts';
import { bundleTargets } from './bundleTargets.ts';
import { Counter, Gauge, metric } from '../observe/metrics.ts';
import { kubeLeaseLock } from '../kube/leaseClient.ts';
import { DEFAULT_LEASE_NAME, defaultIdentity, LeaderElector, type LeaderElectionTiming } from './leaderElection.ts';
import { SYSTEM_NAMESPACE } from '../federation/labels.ts';
import { sharedDevCa } from './sharedDevCa.ts';

const BUNDLE_RESYNC_MS = 60_000;

/** The control plane's Service name, in its 15012 serving certificate: what proxies verify when they reach it by IP. */
export const CONTROL_PLANE_SERVICE_NAME = 'meshfed.meshfed-system.svc';

export interface ControlPlaneConfig {
  kubeConfig: k8s.KubeConfig;
  /** the control plane's own cluster as a member (watched with kubeConfig) */
  local?: { name: string; network: string; region: string };
  federateAll?: boolean;
  trustDomain: string;
  domainSuffix?: string;
  failover?: Record<string, string[]>;
  /** Istio plug-in CA directory; else the `cacerts` Secret; else a dev root */
  caDir?: string;
  host: string;
  /** the admin server's address (no authentication: /debug, /metrics, the dashboard); default: `host` */
  adminHost?: string;
  ports: { xds: number; secure: number; admin: number };
  /** CSR verification + signing on this many worker threads (0: on the gRPC thread); see CaServerOptions */
  caSigningWorkers?: number;
  /** names in the 15012 serving certificate (besides the host address) */
  dnsNames?: string[];
  scrapeTargets?: () => readonly ScrapeTarget[];
  onProgress?: (line: string) => void;
  /**
   * Several replicas: one leader (a Lease in the control-plane cluster) writes to clusters (replication and its GC,
   * policy statuses, trust bundles); every replica watches, merges, serves xDS and issues certificates.
   * Default: on, with client-go's timing (15 s / 10 s / 2 s). false: this process writes without electing.
   */
  leaderElection?: false | (Partial<LeaderElectionTiming> & { identity?: string; namespace?: string; name?: string });
}

export interface ControlPlane {
  federation: Federation;
  pilot: Pilot;
  caSource: 'dir' | 'secret' | 'dev';
  /** PEM roots of the trust bundle */
  roots: string[];
  ports: { xds: number; secure: number; admin: number };
  admin: AdminServer;
  /** undefined when leader election is off */
  elector?: LeaderElector;
  /** releaseLease false: end without handing the Lease over, as a crash would look to the other replicas */
  stop(o?: { releaseLease?: boolean }): Promise<void>;
}

export async function startControlPlane(cfg: ControlPlaneConfig): Promise<ControlPlane> {
  const log = createLogger('control-plane');
  const progress = cfg.onProgress ?? (() => {});
  const registry = newRegistry();
  const events = new EventBus();
  const stops: Array<() => Promise<void> | void> = [];
  const stopAll = async (): Promise<void> => {
    for (const s of stops.reverse()) {
      try { await s(); } catch (e) { log.warn({ err: (e as Error).message }, 'stop step failed'); }
    }
  };
  try {
    // signer and roots come checked from the loader (a multi-root bundle during rotation is split there)
    const le = cfg.leaderElection === false ? undefined : (cfg.leaderElection ?? {});
    const identity = le ? (le.identity ?? defaultIdentity()) : undefined;
    const userAgent = `meshfed-control-plane${identity ? `/${identity}` : ''}`;
    let onLeading = (): void => {};
    const elector = le ? new LeaderElector({
      lock: kubeLeaseLock(cfg.kubeConfig, le.namespace ?? SYSTEM_NAMESPACE, le.name ?? DEFAULT_LEASE_NAME, userAgent),
      identity: identity!,
      ...(le.leaseDurationMs !== undefined ? { leaseDurationMs: le.leaseDurationMs } : {}),
      ...(le.renewDeadlineMs !== undefined ? { renewDeadlineMs: le.renewDeadlineMs } : {}),
      ...(le.retryPeriodMs !== undefined ? { retryPeriodMs: le.retryPeriodMs } : {}),
      onStartedLeading: () => { onLeading(); },
      onNewLeader: (who) => events.publish('leader.changed', `control-plane leader: ${who ?? '(none)'}${who === identity ? ' (this replica)' : ''}`, { leader: who ?? '', replica: identity }),
      log,
    }) : undefined;
    // every write to a cluster asks this first (and counts the refusals)
    const writeFence = elector ? () => elector.mayWrite() : undefined;
    if (elector) {
      metric(registry, 'meshfed_leader', (registers) => new Gauge({
        name: 'meshfed_leader', help: '1 when this control-plane replica holds the leader lease (and may write to clusters), else 0', labelNames: ['replica', 'lease'], registers,
        collect() { this.reset(); this.set({ replica: elector.identity, lease: elector.status().lease }, elector.isLeader() ? 1 : 0); },
      }));
      metric(registry, 'meshfed_leader_fenced_writes_total', (registers) => new Counter({
        name: 'meshfed_leader_fenced_writes_total', help: 'writes to clusters this replica did not send because it did not hold the leader lease', registers,
        collect() { this.reset(); this.inc(elector.fencedWrites()); },
      }));
    }

    let ca = await loadSigningCa({ ...(cfg.caDir ? { dir: cfg.caDir } : {}), kubeConfig: cfg.kubeConfig, trustDomain: cfg.trustDomain, log });
    if (le && ca.source === 'dev') {
      // several replicas: one development root for all of them, kept in a Secret
      try {
        ca = await sharedDevCa({ api: cfg.kubeConfig.makeApiClient(k8s.CoreV1Api), namespace: le.namespace ?? SYSTEM_NAMESPACE, mine: ca, trustDomain: cfg.trustDomain, log });
      } catch (e) {
        log.warn({ err: (e as Error).message }, 'no shared development CA: this replica signs with its own root, so a proxy that moves to another replica will not trust it; plug in Secret meshfed-system/cacerts (meshfed ca init)');
      }
    }
    progress(`CA: signing with the ${ca.source === 'dir' ? `intermediate from ${cfg.caDir}` : ca.source === 'secret' ? 'cacerts Secret' : 'self-signed development root (NOT for production)'}`);

    const federation = new Federation({
      kubeConfig: cfg.kubeConfig,
      ...(cfg.local ? { local: cfg.local } : {}),
      federateAll: cfg.federateAll ?? false,
      trustDomain: cfg.trustDomain,
      ...(cfg.domainSuffix ? { domainSuffix: cfg.domainSuffix } : {}),
      ...(cfg.failover ? { failover: cfg.failover } : {}),
      registry, events,
      ...(elector ? { writeFence: () => elector.mayWrite(), leading: () => elector.isLeader() } : {}),
      userAgent,
    });
    const pilot = new Pilot({ port: cfg.ports.xds, host: cfg.host, registry, events });
    const listening = { 'xDS (plaintext)': false, 'CA and xDS (TLS)': false };

    const bundles = new BundlePublisher(registry);
    let publishing: Promise<unknown> = Promise.resolve();
    // Snapshots change with every endpoint; the bundle's targets (connected clusters × federated namespaces) rarely
    // do. Sync (one read per target, writes only where missing or different) when they change, after a failure,
    // and at most a minute apart otherwise, to repair drift.
    let syncedFor = '';
    let syncedAt = 0;
    const unsubscribe = federation.onSnapshot((s) => {
      pilot.setSnapshot(s);
      // trust bundles are written by the leader only (it syncs them all when it becomes the leader)
      if (elector && !elector.isLeader()) { syncedFor = ''; return; }
      const targets = bundleTargets(s);
      const key = JSON.stringify(targets);
      if (key === syncedFor && Date.now() - syncedAt < BUNDLE_RESYNC_MS) return;
      syncedFor = key;
      syncedAt = Date.now();
      publishing = publishing.then(() => bundles.sync(
        targets.flatMap((t) => {
          const kc = federation.kubeConfigFor(t.cluster);
          return kc ? [{ ...t, kubeconfig: kc }] : [];
        }),
        ca.roots,
        writeFence,
      )).then((results) => { if (results.some((r) => r.error)) syncedFor = ''; })
        .catch((e: unknown) => { syncedFor = ''; log.warn({ err: (e as Error).message }, 'trust bundle publishing failed'); });
    });
    stops.push(unsubscribe);

    if (elector) {
      // elected before the policy watchers start: a lone (or first) replica installs missing CRDs at once; the
      // others leave them to the leader. Writers started later ask the fence at each write, as always.
      elector.start();
      stops.push(() => elector.stop());
      await elector.firstAttempt();
    }

    const announced = new Map<string, string>();
    /** a rejected traffic or security policy object becomes one dashboard event per generation and reason set */
    const announceRejections = (rejected: readonly { kind: string; namespace: string; name: string; generation: number; reasons: readonly string[]; cluster: string }[]): void => {
      for (const r of rejected) {
        const sig = `${r.cluster}|${r.generation}|${r.reasons.join(';')}`;
        if (announced.get(`${r.kind}/${r.namespace}/${r.name}`) === sig) continue;
        announced.set(`${r.kind}/${r.namespace}/${r.name}`, sig);
        events.publish('policy.rejected', `${r.kind} ${r.namespace}/${r.name} (generation ${r.generation})${r.cluster ? ` in cluster ${r.cluster}` : ''} rejected: ${r.reasons.join('; ')}`, { kind: r.kind, object: `${r.namespace}/${r.name}`, cluster: r.cluster, reasons: [...r.reasons] });
      }
    };
    const policy = new PolicyWatcher({
      kubeConfig: cfg.kubeConfig,
      ...(cfg.domainSuffix ? { domainSuffix: cfg.domainSuffix } : {}),
      // member clusters' VirtualServices/DestinationRules too, through the federation's narrow credentials; the
      // federation says when a member joins or leaves
      members: federation,
      onPolicy: (set, rejected) => {
        pilot.setPolicy(compilePolicy(set));
        announceRejections(rejected);
      },
      ...(writeFence ? { writeFence } : {}),
      log,
    });
    await policy.start();
    stops.push(() => policy.stop());
    progress('traffic policy: watching VirtualServices and DestinationRules');

    const security = new SecurityWatcher({
      kubeConfig: cfg.kubeConfig,
      members: federation,
      ...(writeFence ? { writeFence } : {}),
      onSecurity: (set, rejected, egress) => {
        pilot.setSecurity(compileSecurity(set, undefined, egress));
        announceRejections(rejected);
      },
      log,
    });
    await security.start();
    stops.push(() => security.stop());
    progress('security policy: watching AuthorizationPolicies and PeerAuthentications');

    await federation.start();
    stops.push(() => federation.stop());
    progress('federation: watching registered clusters');

    if (elector) {
      // a new leader plans replication in full, writes every policy status, trust bundle and missing CRD that is due
      onLeading = () => { syncedFor = ''; federation.replicateNow(); policy.reevaluate(); security.reevaluate(); };
      progress(`leader election: replica ${elector.identity} competes for ${elector.status().lease}; only the leader writes to clusters`);
    }

    const xdsPort = await pilot.start();
    listening['xDS (plaintext)'] = true;
    stops.push(() => pilot.stop());

    const reviewer = new CachingReviewer(new KubeTokenReviewer((c) => federation.kubeConfigFor(c)));
    const caServer = new CaServer({ signer: ca.signer, reviewer, trustDomain: cfg.trustDomain, registry, log, signingWorkers: cfg.caSigningWorkers ?? 0 });
    stops.push(() => caServer.stop());
    const serving = servingCredentials({
      signer: ca.signer, roots: ca.roots, requestClientCert: true,
      dnsNames: cfg.dnsNames ?? ['localhost', CONTROL_PLANE_SERVICE_NAME, 'istiod.meshfed-system.svc'],
      ipAddresses: [...new Set([cfg.host === '0.0.0.0' ? '127.0.0.1' : cfg.host, '127.0.0.1'])],
    });
    stops.push(() => serving.close());
    const secure = new grpc.Server({ 'grpc.max_receive_message_length': 4 << 20 });
    caServer.addTo(secure);
    pilot.addTo(secure, { requirePeerCert: true });
    const securePort = await new Promise<number>((res, rej) => secure.bindAsync(`${cfg.host}:${cfg.ports.secure}`, serving.credentials,
      (e, p) => (e ? rej(new Error(`cannot listen on ${cfg.host}:${cfg.ports.secure} (CA + xDS over TLS): ${e.message}`)) : res(p))));
    // the certificate provider hands its first certificate over asynchronously: let it land before clients come
    await new Promise((r) => setTimeout(r, 20));
    listening['CA and xDS (TLS)'] = true;
    stops.push(() => new Promise<void>((r) => secure.tryShutdown(() => r())));

    const admin = await startAdminServer(controlPlaneSources({
      discovery: federation,
      xds: pilot,
      listeners: () => listening,
      registry, events,
      ...(elector ? { leadership: () => elector.status() } : {}),
      ...(cfg.scrapeTargets ? { scrapeTargets: cfg.scrapeTargets } : {}),
    }), { host: cfg.adminHost ?? cfg.host, port: cfg.ports.admin });
    stops.push(() => admin.close());
    progress(`xDS on ${cfg.host}:${xdsPort} (plaintext), CA + xDS on ${cfg.host}:${securePort} (TLS), admin on ${admin.url}`);
    log.info({ xds: xdsPort, secure: securePort, admin: admin.port, ca: ca.source }, 'control plane started');

    return {
      federation, pilot, caSource: ca.source, roots: ca.roots, admin,
      ...(elector ? { elector } : {}),
      ports: { xds: xdsPort, secure: securePort, admin: admin.port },
      // stop writing and hand the lease over first, so another replica takes over at once
      stop: async (o = {}) => { await elector?.stop(o); await stopAll(); await publishing; },
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
