// Watches VirtualServices and DestinationRules in the control-plane cluster, validates them (the role Galley
// played), keeps serving the last good version of an object whose new generation is invalid, writes each object's
// status, and hands the accepted set (FQDN hosts) to a callback — pilot.setPolicy(compilePolicy(set)).
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import { createLogger } from '../log.ts';
import { POLICY_CRDS } from './crds.ts';
import { qualifyPolicy } from './normalize.ts';
import { fromKube, statusFor, type KubeObject } from './parse.ts';
import { policyKey, type DestinationRule, type Rejection, type VirtualService } from './types.ts';
import { reconcile, type PolicySet } from './validate.ts';

const GROUP = 'networking.istio.io';
const VERSION = 'v1';

export interface PolicyWatcherOptions {
  kubeConfig: k8s.KubeConfig;
  domainSuffix?: string;
  /** install the CRDs when they are missing (default true) */
  installCrds?: boolean;
  onPolicy: (accepted: PolicySet, rejected: readonly Rejection[]) => void;
  log?: Logger;
}

export class PolicyWatcher {
  private readonly log: Logger;
  private informers: Array<k8s.Informer<k8s.KubernetesObject> & k8s.ObjectCache<k8s.KubernetesObject>> = [];
  private good: PolicySet = { virtualServices: [], destinationRules: [] };
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** what status each object last got: `<generation>|<reasons>` (written only when it changes) */
  private readonly written = new Map<string, string>();

  constructor(private readonly o: PolicyWatcherOptions) {
    this.log = o.log ?? createLogger('policy');
  }

  async start(): Promise<void> {
    if (this.o.installCrds !== false) {
      // without the right to create CRDs (a locked-down install) the watch still works once they exist
      await this.installCrds().catch((e: unknown) => this.log.warn({ err: (e as Error).message }, 'could not install the traffic policy CRDs; install them with "meshfed install"'));
    }
    const custom = this.o.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    for (const plural of ['virtualservices', 'destinationrules']) {
      const inf = k8s.makeInformer(this.o.kubeConfig, `/apis/${GROUP}/${VERSION}/${plural}`,
        () => custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural }) as Promise<k8s.KubernetesListObject<k8s.KubernetesObject>>);
      const changed = (): void => this.schedule();
      inf.on('add', changed);
      inf.on('update', changed);
      inf.on('delete', changed);
      inf.on('error', (err: unknown) => {
        if (this.stopped) return;
        this.log.warn({ plural, err: (err as Error).message }, 'watching traffic policy failed; retrying');
        setTimeout(() => { if (!this.stopped) void inf.start(); }, 1000).unref();
      });
      this.informers.push(inf);
      await inf.start();
    }
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const i of this.informers) await i.stop();
  }

  private async installCrds(): Promise<void> {
    const api = k8s.KubernetesObjectApi.makeApiClient(this.o.kubeConfig);
    for (const crd of POLICY_CRDS) {
      try {
        await api.read({ apiVersion: crd.apiVersion, kind: crd.kind, metadata: { name: crd.metadata.name } });
      } catch (e) {
        if ((e as { code?: number }).code !== 404) throw new Error(`cannot read CRD ${crd.metadata.name}: ${(e as Error).message}`);
        await api.create(crd as unknown as k8s.KubernetesObject);
        this.log.info({ crd: crd.metadata.name }, 'installed CRD');
      }
    }
  }

  private schedule(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => { this.timer = undefined; void this.evaluate(); }, 20);
  }

  private async evaluate(): Promise<void> {
    const incoming: PolicySet = { virtualServices: [], destinationRules: [] };
    const unparsable: Rejection[] = [];
    for (const inf of this.informers) {
      for (const obj of inf.list()) {
        const m = fromKube(obj as KubeObject);
        if ('error' in m) {
          const md = obj.metadata ?? {};
          unparsable.push({ kind: obj.kind === 'DestinationRule' ? 'DestinationRule' : 'VirtualService', namespace: md.namespace ?? '', name: md.name ?? '', generation: md.generation ?? 1, reasons: [m.error] });
          continue;
        }
        if (m.kind === 'VirtualService') incoming.virtualServices.push(m as VirtualService);
        else incoming.destinationRules.push(m as DestinationRule);
      }
    }
    const q = qualifyPolicy(incoming, this.o.domainSuffix);
    const { good, rejected } = reconcile(this.good, q);
    this.good = good;
    const all = [...rejected, ...unparsable];
    for (const r of all) this.log.warn({ kind: r.kind, object: `${r.namespace}/${r.name}`, generation: r.generation, reasons: r.reasons }, 'traffic policy rejected; the last good version (if any) keeps being served');
    this.o.onPolicy(good, all);
    await this.writeStatuses(q, all);
  }

  private async writeStatuses(incoming: PolicySet, rejected: readonly Rejection[]): Promise<void> {
    const custom = this.o.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    const byKey = new Map(rejected.map((r) => [`${r.kind}/${r.namespace}/${r.name}`, r]));
    for (const obj of [...incoming.virtualServices, ...incoming.destinationRules]) {
      const key = policyKey(obj);
      const rej = byKey.get(key);
      const sig = `${obj.metadata.generation}|${rej?.reasons.join(';') ?? ''}`;
      if (this.written.get(key) === sig) continue;
      const plural = obj.kind === 'VirtualService' ? 'virtualservices' : 'destinationrules';
      try {
        await custom.patchNamespacedCustomObjectStatus(
          { group: GROUP, version: VERSION, namespace: obj.metadata.namespace, plural, name: obj.metadata.name, body: { status: statusFor(obj.metadata.generation, rej) } },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        );
        this.written.set(key, sig);
      } catch (e) {
        this.log.warn({ object: key, err: (e as Error).message }, 'could not write traffic policy status');
      }
    }
  }
}
