// What the admin server shows, as an interface the lead wires to federation, pilot and the proxies.
// The admin module never imports those modules; tests use in-memory sources.
import type { Registry } from 'prom-client';
import type { ClusterStatus, MeshSnapshot } from '../mesh/types.ts';
import type { EventBus } from '../observe/events.ts';

/** Per xDS type state of one proxy stream (like istiod's /debug/syncz); same shape as pilot's TypeStatus. */
export interface TypeSync {
  names: readonly string[];
  wildcard?: boolean;
  /** '' when nothing was sent yet */
  versionSent: string;
  versionAcked: string;
  lastNonce?: string;
  lastNack?: { nonce?: string; message: string; at: string };
}

export interface ProxySync {
  nodeId: string;
  role: string;
  cluster: string;
  network: string;
  locality?: { region: string; zone: string; subZone: string };
  connectedAt: string;
  /** keyed by xDS type URL (type.googleapis.com/envoy.config.cluster.v3.Cluster, …) */
  types: Readonly<Record<string, TypeSync>>;
}

export interface Readiness {
  ready: boolean;
  /** what it still waits for, when not ready */
  reasons: readonly string[];
}

/** A proxy's Prometheus endpoint the admin scrapes for request rates (e.g. http://10.0.0.1:15090/stats/prometheus). */
export interface ScrapeTarget {
  name: string;
  url: string;
}

/** Which control-plane replica leads (writes to clusters); the shape of /debug/leader. */
export interface Leadership {
  /** this replica */
  identity: string;
  /** namespace/name of the Lease */
  lease: string;
  /** this replica holds the lease and may write now */
  leading: boolean;
  /** the lease's holder as last read ('' when nobody holds it) */
  leader: string;
  leadingSince?: string;
  leaseDurationSeconds: number;
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
  transitions: number;
}

export interface AdminSources {
  snapshot(): MeshSnapshot;
  clusters(): readonly ClusterStatus[];
  proxies(): readonly ProxySync[];
  /** undefined for an unknown node */
  configDump(nodeId: string): unknown | undefined;
  ready(): Readiness;
  /** undefined: this control plane runs without leader election (it writes alone) */
  leadership?: () => Leadership;
  registry: Registry;
  events: EventBus;
  scrapeTargets?: () => readonly ScrapeTarget[];
}
