// Writes the playground's demo objects into a cluster through its API, as an operator and a kubelet would:
// Namespace, ServiceAccounts, the echo Service, Pods (then their status), the east-west gateway Service, and
// ServiceAccount tokens (TokenRequest) for the sidecars.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { DEMO_NAMESPACE, demoNamespace, echoService, gatewayService, podObject, podStatus, serviceAccount, type DemoPod } from './demo.ts';

const FIELD_MANAGER = 'meshfed-playground';

async function apply(kc: k8s.KubeConfig, obj: Record<string, unknown>): Promise<void> {
  const api = k8s.KubernetesObjectApi.makeApiClient(kc);
  await api.patch(obj as k8s.KubernetesObject, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply);
}

export async function applyDemo(kc: k8s.KubeConfig, pods: readonly DemoPod[]): Promise<void> {
  await apply(kc, demoNamespace());
  for (const sa of new Set(pods.map((p) => p.serviceAccount))) await apply(kc, serviceAccount(sa));
  await apply(kc, echoService());
  const core = kc.makeApiClient(k8s.CoreV1Api);
  for (const p of pods) {
    await apply(kc, podObject(p));
    await setPodReady(kc, p, true, core);
  }
}

/** The kubelet's part: report the pod running with its IP and readiness (status subresource). */
export async function setPodReady(kc: k8s.KubeConfig, p: DemoPod, ready: boolean, core = kc.makeApiClient(k8s.CoreV1Api)): Promise<void> {
  await core.patchNamespacedPodStatus(
    { name: p.name, namespace: DEMO_NAMESPACE, body: { status: podStatus(p, ready, new Date().toISOString()) } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

export async function applyGatewayService(kc: k8s.KubeConfig, network: string, address: string): Promise<void> {
  await apply(kc, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'meshfed-system' } });
  await apply(kc, gatewayService(network, address));
}

/** A bound ServiceAccount token (what a kubelet projects into the pod) for the sidecar's CA request. */
export async function serviceAccountToken(kc: k8s.KubeConfig, namespace: string, name: string, seconds = 24 * 3600): Promise<string> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const tr = await core.createNamespacedServiceAccountToken({ name, namespace, body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds: seconds } } });
  const token = tr.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  return token;
}

/**
 * Every cluster's demo objects (applyDemo), then each pod's ServiceAccount token written to <stateDir>/tokens/
 * <cluster>-<pod>.token (0600) for its sidecar: `<cluster>/<pod>` → file. The tokens directory must exist.
 */
export async function applyDemoWithTokens(clusters: readonly string[], pods: readonly DemoPod[], kcs: ReadonlyMap<string, k8s.KubeConfig>, stateDir: string): Promise<Map<string, string>> {
  const tokenFiles = new Map<string, string>();
  for (const cluster of clusters) {
    const mine = pods.filter((p) => p.cluster === cluster);
    await applyDemo(kcs.get(cluster)!, mine);
    for (const p of mine) {
      const file = join(stateDir, 'tokens', `${p.cluster}-${p.name}.token`);
      writeFileSync(file, await serviceAccountToken(kcs.get(cluster)!, DEMO_NAMESPACE, p.serviceAccount), { mode: 0o600 });
      tokenFiles.set(`${p.cluster}/${p.name}`, file);
    }
  }
  return tokenFiles;
}
