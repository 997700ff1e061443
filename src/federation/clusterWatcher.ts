// One member cluster seen through src/kube informers (namespaces, services, endpointslices, pods, nodes). Keeps
// the last-known objects when the cluster goes away (the merge marks its endpoints stale); the informers retry with
// backoff, relist on 410 and notice a hung API server. Reports state changes; logs one line per change (and a
// summary at most once a minute during an outage); never throws at its caller.
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import type { ClusterState, ClusterStatus } from '../mesh/types.ts';
import type { ClusterView } from './merge.ts';
import type { ClusterObjects } from './replicationPlan.ts';
import { Informer, type InformerEvent, type InformerHealth, type WatchTiming } from '../kube/informer.ts';
import { Liveness } from '../kube/liveness.ts';
import { OutageLog } from '../kube/outageLog.ts';
import { DirtyKeys } from './dirtyKeys.ts';
import { slim, type WatchedKind } from './slim.ts';

type Kind = WatchedKind;
const KINDS: readonly Kind[] = ['namespaces', 'services', 'endpointSlices', 'pods', 'nodes'];
const PATHS: Record<Kind, string> = {
  namespaces: '/api/v1/namespaces',
  services: '/api/v1/services',
  endpointSlices: '/apis/discovery.k8s.io/v1/endpointslices',
  pods: '/api/v1/pods',
  nodes: '/api/v1/nodes',
};

export interface ClusterMeta { name: string; server: string; network: string; region: string }

interface Feed {
  informer: Informer;
  /** cached list, rebuilt only after a change (the merge memoizes on array identity) */
  items?: readonly k8s.KubernetesObject[];
}

export class ClusterWatcher {
  private readonly feeds = new Map<Kind, Feed>();
  private stateValue: ClusterState = 'syncing';
  private since = new Date().toISOString();
  private reason: string | undefined;
  private everSynced = false;
  private stopped = false;
  private readonly dirty = new DirtyKeys();
  private readonly outage: OutageLog;
  private readonly liveness: Liveness;

  constructor(
    readonly meta: ClusterMeta,
    readonly kubeConfig: k8s.KubeConfig,
    private readonly onChange: (what: 'objects' | 'state') => void,
    private readonly log: Logger,
    timing?: WatchTiming,
  ) {
    this.outage = new OutageLog(`cluster ${meta.name}`, log, { cluster: meta.name });
    // one heartbeat for the five watches of this API server
    this.liveness = new Liveness(kubeConfig, timing?.liveness);
    for (const kind of KINDS) {
      const informer = new Informer({ kubeConfig, path: PATHS[kind], liveness: this.liveness, ...(timing ? { timing } : {}) });
      const feed: Feed = { informer };
      const changed = (obj: k8s.KubernetesObject, deleted: boolean): void => {
        slim(kind, obj);
        this.track(kind, obj, deleted);
        feed.items = undefined;
        this.onChange('objects');
      };
      informer.on('add', (o) => changed(o, false));
      informer.on('update', (o) => changed(o, false));
      informer.on('delete', (o) => changed(o, true));
      informer.onHealth((e, h) => this.health(kind, e, h));
      this.feeds.set(kind, feed);
    }
  }

  get state(): ClusterState { return this.stateValue; }
  get synced(): boolean { return this.everSynced; }

  /** Epoch ms of the last answer from this cluster's API server (a list, a watch event or bookmark, a liveness probe). */
  lastContact(): number | undefined {
    return this.liveness.lastContact();
  }

  /** The state as the merge sees it: no contact time in it (that changes without any change to merge). */
  status(): ClusterStatus {
    return {
      name: this.meta.name, server: this.meta.server, network: this.meta.network, region: this.meta.region,
      state: this.stateValue, since: this.since,
      ...(this.reason ? { reason: this.reason } : {}),
      services: 0, endpoints: 0,
    };
  }

  view(): ClusterView {
    return {
      status: this.status(),
      namespaces: this.items('namespaces') as k8s.V1Namespace[],
      services: this.items('services') as k8s.V1Service[],
      endpointSlices: this.items('endpointSlices') as k8s.V1EndpointSlice[],
      pods: this.items('pods') as k8s.V1Pod[],
      nodes: this.items('nodes') as k8s.V1Node[],
    };
  }

  /** Service keys whose inputs changed since the last call (undefined: any may have), for the merge's `dirty`. */
  takeDirty(): ReadonlySet<string> | undefined {
    return this.dirty.take();
  }

  private track(kind: Kind, obj: k8s.KubernetesObject, deleted: boolean): void {
    switch (kind) {
      case 'services': this.dirty.service(obj); return;
      case 'endpointSlices': this.dirty.slice(obj as k8s.V1EndpointSlice, deleted); return;
      case 'pods': this.dirty.pod(obj); return;
      case 'nodes': this.dirty.labelled('node', obj, deleted); return;
      case 'namespaces': this.dirty.labelled('namespace', obj, deleted);
    }
  }

  objects(): ClusterObjects {
    return { cluster: this.meta.name, namespaces: this.items('namespaces') as k8s.V1Namespace[], services: this.items('services') as k8s.V1Service[], pods: this.items('pods') as k8s.V1Pod[] };
  }

  private items(kind: Kind): readonly k8s.KubernetesObject[] {
    const f = this.feeds.get(kind)!;
    f.items ??= f.informer.list();
    return f.items;
  }

  start(): void {
    for (const f of this.feeds.values()) void f.informer.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.liveness.close();
    await Promise.all([...this.feeds.values()].map((f) => f.informer.stop()));
  }

  private health(kind: Kind, e: InformerEvent, h: InformerHealth): void {
    if (this.stopped) return;
    if (e === 'failed' && h.error) {
      this.outage.failed(h.error.state, `${kind}: ${h.error.reason}`);
      this.setState(h.error.state, `${kind}: ${h.error.reason}`);
      return;
    }
    // (re)listed or watching again: merge this cluster in full once
    this.dirty.all();
    if (![...this.feeds.values()].every((f) => f.informer.health().synced)) return;
    if (!this.everSynced) this.log.info({ cluster: this.meta.name }, `cluster ${this.meta.name} synced`);
    this.everSynced = true;
    this.outage.recovered();
    this.setState('connected', undefined);
    this.onChange('objects');
  }

  private setState(state: ClusterState, reason: string | undefined): void {
    // one reason per outage: the other informers failing the same way (or each retry) change nothing
    if (state === this.stateValue) return;
    // the first failure keeps its time: "unreachable since" is when it went away, not the last retry
    this.since = new Date().toISOString();
    this.stateValue = state;
    this.reason = reason;
    this.dirty.all();
    this.onChange('state');
  }
}
