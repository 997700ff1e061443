// Trust bundle ConfigMap `meshfed-root-cert` and its publisher (server-side apply, field manager `meshfed`).
import * as k8s from '@kubernetes/client-node';

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
