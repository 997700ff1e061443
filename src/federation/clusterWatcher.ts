// One member cluster seen through @kubernetes/client-node informers (namespaces, services, endpointslices, pods,
// nodes). Keeps the last-known objects when the cluster goes away; restarts failed informers with p-retry backoff
// (410 Gone relists inside the informer). Reports state changes; never throws at its caller.
import * as k8s from '@kubernetes/client-node';
import pRetry from 'p-retry';
import type { Logger } from '../log.ts';
import type { ClusterState, ClusterStatus } from '../mesh/types.ts';
import type { ClusterView } from './merge.ts';
import type { ClusterObjects } from './replicationPlan.ts';
import { classifyWatchError } from './watchState.ts';
import { DirtyKeys } from './dirtyKeys.ts';
import { slim, type WatchedKind } from './slim.ts';

type Kind = WatchedKind;
const KINDS: readonly Kind[] = ['namespaces', 'services', 'endpointSlices', 'pods', 'nodes'];

export interface ClusterMeta { name: string; server: string; network: string; region: string }

interface Feed {
  informer: k8s.Informer<k8s.KubernetesObject> & k8s.ObjectCache<k8s.KubernetesObject>;
  /** cached list, rebuilt only after a change (the merge memoizes on array identity) */
  items?: readonly k8s.KubernetesObject[];
  synced: boolean;
  failed?: { state: 'unreachable' | 'error'; reason: string };
  retrying: boolean;
}

export class ClusterWatcher {
  private readonly feeds = new Map<Kind, Feed>();
  private readonly abort = new AbortController();
  private stateValue: ClusterState = 'syncing';
  private since = new Date().toISOString();
  private reason: string | undefined;
  private lastSync: string | undefined;
  private everSynced = false;
  private readonly dirty = new DirtyKeys();

  constructor(
    readonly meta: ClusterMeta,
    readonly kubeConfig: k8s.KubeConfig,
    private readonly onChange: (what: 'objects' | 'state') => void,
    private readonly log: Logger,
  ) {
    const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
    const discovery = kubeConfig.makeApiClient(k8s.DiscoveryV1Api);
    const lists: Record<Kind, [string, () => Promise<k8s.KubernetesListObject<k8s.KubernetesObject>>]> = {
      namespaces: ['/api/v1/namespaces', () => core.listNamespace()],
      services: ['/api/v1/services', () => core.listServiceForAllNamespaces()],
      endpointSlices: ['/apis/discovery.k8s.io/v1/endpointslices', () => discovery.listEndpointSliceForAllNamespaces()],
      pods: ['/api/v1/pods', () => core.listPodForAllNamespaces()],
      nodes: ['/api/v1/nodes', () => core.listNode()],
    };
    for (const kind of KINDS) {
      const [path, list] = lists[kind];
      const informer = k8s.makeInformer(kubeConfig, path, list);
      const feed: Feed = { informer, synced: false, retrying: false };
      const changed = (obj: k8s.KubernetesObject | undefined, deleted: boolean): void => {
        if (obj) { slim(kind, obj); this.track(kind, obj, deleted); } else this.dirty.all();
        feed.items = undefined;
        this.onChange('objects');
      };
      informer.on('add', (o) => changed(o, false));
      informer.on('update', (o) => changed(o, false));
      informer.on('delete', (o) => changed(o, true));
      informer.on('error', (err: unknown) => this.failed(kind, feed, err));
      this.feeds.set(kind, feed);
    }
  }

  get state(): ClusterState { return this.stateValue; }
  get synced(): boolean { return this.everSynced; }

  status(): ClusterStatus {
    return {
      name: this.meta.name, server: this.meta.server, network: this.meta.network, region: this.meta.region,
      state: this.stateValue, since: this.since,
      ...(this.reason ? { reason: this.reason } : {}),
      ...(this.lastSync ? { lastSync: this.lastSync } : {}),
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
    for (const [kind, feed] of this.feeds) void this.run(kind, feed);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    for (const f of this.feeds.values()) await f.informer.stop();
  }

  /** Start (or restart) one informer until it lists and watches, backing off while the cluster does not answer. */
  private async run(kind: Kind, feed: Feed): Promise<void> {
    if (feed.retrying || this.abort.signal.aborted) return;
    feed.retrying = true;
    try {
      await pRetry(async () => {
        feed.failed = undefined;
        await feed.informer.start();
        // the informer reports list/watch failures through its 'error' callback, not by rejecting
        if (feed.failed) throw new Error((feed.failed as { reason: string }).reason);
      }, { retries: Number.POSITIVE_INFINITY, minTimeout: 250, maxTimeout: 10_000, randomize: true, signal: this.abort.signal, onFailedAttempt: () => {} });
      feed.synced = true;
      // (re)listed: merge this cluster in full once
      this.dirty.all();
      this.settle();
    } catch {
      // aborted: the watcher is stopping
    } finally {
      feed.retrying = false;
    }
  }

  private failed(kind: Kind, feed: Feed, err: unknown): void {
    if (this.abort.signal.aborted) return;
    const c = classifyWatchError(err);
    feed.failed = c;
    feed.synced = false;
    this.log.debug({ cluster: this.meta.name, kind, reason: c.reason }, 'informer failed');
    this.setState(c.state, `${kind}: ${c.reason}`);
    // a failure after the informer was running (dropped watch): start it again, with backoff
    if (!feed.retrying) void this.run(kind, feed);
  }

  private settle(): void {
    if ([...this.feeds.values()].every((f) => f.synced && !f.failed)) {
      this.everSynced = true;
      this.lastSync = new Date().toISOString();
      this.setState('connected', undefined);
    }
  }

  private setState(state: ClusterState, reason: string | undefined): void {
    // one reason per outage: the other informers failing the same way (or each retry) change nothing
    if (state === this.stateValue) return;
    // the first failure keeps its time: "unreachable since" is when it went away, not the last retry
    if (state !== this.stateValue) this.since = new Date().toISOString();
    this.stateValue = state;
    this.reason = reason;
    this.dirty.all();
    this.onChange('state');
  }
}
