// The lifecycle both policy watchers share (traffic: VirtualService/DestinationRule; security: AuthorizationPolicy,
// PeerAuthentication, egress): install missing CRDs, start the watch set, and re-evaluate the whole set at most once per
// 20 ms whenever an object changes anywhere. Subclasses hold the watch set and say what an evaluation does.
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import type { CrdManifest } from './crds.ts';
import { installMissingCrds, type PolicyWatchSet } from './watchSet.ts';

export interface EvaluatingWatcherSetup {
  kubeConfig: k8s.KubeConfig;
  /** install the CRDs when they are missing (default true; control-plane cluster only) */
  installCrds?: boolean;
  crds: readonly CrdManifest[];
  /** for logs: "traffic policy" */
  what: string;
  /** several replicas: may this one write now? (CRDs are installed by the leader only) */
  writeFence?: () => boolean;
}

export abstract class EvaluatingWatcher {
  protected abstract readonly log: Logger;
  protected abstract readonly watches: PolicyWatchSet;
  protected stopped = false;
  private timer?: NodeJS.Timeout;
  /** missing CRDs that this replica did not lead to install (it tries again when it becomes the leader) */
  private crdsPending: boolean;
  private installing: Promise<void> = Promise.resolve();

  constructor(private readonly setup: EvaluatingWatcherSetup) {
    this.crdsPending = setup.installCrds !== false;
  }

  async start(): Promise<void> {
    await this.installCrds();
    await this.watches.start();
    this.schedule();
  }

  /** Install the missing CRDs if this replica may write (the informers read them once they exist). */
  private installCrds(): Promise<void> {
    this.installing = this.installing.then(async () => {
      if (!this.crdsPending || this.stopped) return;
      try {
        const { fenced } = await installMissingCrds(this.setup.kubeConfig, this.setup.crds, this.log, this.setup.writeFence);
        this.crdsPending = fenced.length > 0;
        if (fenced.length) this.log.info({ crds: fenced }, `${this.setup.what} CRDs missing: the leader installs them`);
      } catch (e) {
        // without the right to create CRDs (a locked-down install) the watch still works once they exist
        this.crdsPending = false;
        this.log.warn({ err: (e as Error).message }, `could not install the ${this.setup.what} CRDs; install them with "meshfed install"`);
      }
    });
    return this.installing;
  }

  /** Starts watches for new member clusters (or changed credentials) and stops those of departed ones. */
  syncMembers(): Promise<void> {
    return this.watches.syncMembers();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.watches.stop();
  }

  /** Evaluate again now and write what status is due, and the missing CRDs (e.g. this replica just became the leader). */
  reevaluate(): void {
    void this.installCrds();
    this.schedule();
  }

  protected schedule(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => { this.timer = undefined; void this.evaluate(); }, 20);
  }

  protected abstract evaluate(): Promise<void>;
}
