// Trust bundle ConfigMap `meshfed-root-cert` and its publisher (server-side apply, field manager `meshfed`).
import * as k8s from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { Counter, metric } from '../observe/metrics.ts';
import { orNotFound } from '../kube/apiError.ts';

export const BUNDLE_CONFIGMAP = 'meshfed-root-cert';
export const BUNDLE_KEY = 'root-cert.pem';

export function bundleConfigMap(namespace: string, rootsPem: string[]): k8s.V1ConfigMap {
  const data = rootsPem.map((p) => p.trim() + '\n').join('');
  return {
    apiVersion: 'v1', kind: 'ConfigMap',
    metadata: { name: BUNDLE_CONFIGMAP, namespace, labels: { 'app.kubernetes.io/managed-by': 'meshfed' } },
    data: { [BUNDLE_KEY]: data },
  };
}

/** Applies the bundle into each namespace of each cluster; returns per-target errors (never throws for one target). */
export async function publishBundle(
  targets: { cluster: string; kubeconfig: k8s.KubeConfig; namespaces: string[] }[],
  rootsPem: string[],
): Promise<{ cluster: string; namespace: string; error?: string }[]> {
  const results: { cluster: string; namespace: string; error?: string }[] = [];
  for (const t of targets) {
    const api = k8s.KubernetesObjectApi.makeApiClient(t.kubeconfig);
    for (const ns of t.namespaces) {
      try {
        await api.patch(bundleConfigMap(ns, rootsPem), undefined, undefined, 'meshfed', true, k8s.PatchStrategy.ServerSideApply);
        results.push({ cluster: t.cluster, namespace: ns });
      } catch (e) {
        results.push({ cluster: t.cluster, namespace: ns, error: `apply ConfigMap ${ns}/${BUNDLE_CONFIGMAP} in cluster ${t.cluster}: ${(e as Error).message}` });
      }
    }
  }
  return results;
}

/** Level-triggered publishing: reads each ConfigMap and writes only where it is missing or different. */
export class BundlePublisher {
  private readonly errors: Counter<'cluster'>;
  private readonly writes: Counter<'cluster'>;

  constructor(registry: Registry) {
    this.errors = metric(registry, 'meshfed_ca_bundle_errors_total', (registers) => new Counter({ name: 'meshfed_ca_bundle_errors_total', help: 'trust bundle ConfigMap writes that failed', labelNames: ['cluster'], registers }));
    this.writes = metric(registry, 'meshfed_ca_bundle_writes_total', (registers) => new Counter({ name: 'meshfed_ca_bundle_writes_total', help: 'trust bundle ConfigMaps written', labelNames: ['cluster'], registers }));
  }

  /** `fence`: may this replica still write (leader election)? Checked before each write; a refused write is an error result. */
  async sync(targets: { cluster: string; kubeconfig: k8s.KubeConfig; namespaces: string[] }[], rootsPem: string[], fence?: () => boolean): Promise<{ cluster: string; namespace: string; wrote: boolean; error?: string }[]> {
    const out: { cluster: string; namespace: string; wrote: boolean; error?: string }[] = [];
    await Promise.all(targets.map(async (t) => {
      const core = t.kubeconfig.makeApiClient(k8s.CoreV1Api);
      for (const ns of t.namespaces) {
        const want = bundleConfigMap(ns, rootsPem);
        try {
          const have = await orNotFound(core.readNamespacedConfigMap({ name: BUNDLE_CONFIGMAP, namespace: ns }));
          if (have?.data?.[BUNDLE_KEY] === want.data![BUNDLE_KEY]) { out.push({ cluster: t.cluster, namespace: ns, wrote: false }); continue; }
          if (fence && !fence()) { out.push({ cluster: t.cluster, namespace: ns, wrote: false, error: `trust bundle ${ns}/${BUNDLE_CONFIGMAP} in cluster ${t.cluster}: not written, this replica no longer leads` }); continue; }
          const [r] = await publishBundle([{ cluster: t.cluster, kubeconfig: t.kubeconfig, namespaces: [ns] }], rootsPem);
          if (r?.error) throw new Error(r.error);
          this.writes.inc({ cluster: t.cluster });
          out.push({ cluster: t.cluster, namespace: ns, wrote: true });
        } catch (e) {
          this.errors.inc({ cluster: t.cluster });
          out.push({ cluster: t.cluster, namespace: ns, wrote: false, error: `trust bundle ${ns}/${BUNDLE_CONFIGMAP} in cluster ${t.cluster}: ${(e as Error).message}` });
        }
      }
    }));
    return out;
  }
}
