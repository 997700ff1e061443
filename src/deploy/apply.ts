// Server-side apply of a list of objects with meshfed's field manager (works on any real cluster).
import * as k8s from '@kubernetes/client-node';
import { apiMessage } from '../kube/apiError.ts';
import type { K8sObject } from './manifests.ts';

export const FIELD_MANAGER = 'meshfed';

export interface ApplyResult {
  object: string;
  outcome: 'created' | 'configured' | 'unchanged';
}

export async function applyObjects(kc: k8s.KubeConfig, objects: K8sObject[], onProgress?: (r: ApplyResult) => void): Promise<ApplyResult[]> {
  const api = k8s.KubernetesObjectApi.makeApiClient(kc);
  const results: ApplyResult[] = [];
  for (const obj of objects) {
    const id = `${obj.kind.toLowerCase()}/${obj.metadata.name}${obj.metadata.namespace ? ` -n ${obj.metadata.namespace}` : ''}`;
    let before: k8s.KubernetesObject | undefined;
    try {
      before = await api.read({ apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: obj.metadata.name, ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}) } });
    } catch (e) {
      if (!(e instanceof k8s.ApiException) || e.code !== 404) throw new Error(`reading ${id}: ${describe(e)}`);
    }
    let after: k8s.KubernetesObject;
    try {
      after = await api.patch(obj as k8s.KubernetesObject, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply);
    } catch (e) {
      throw new Error(`applying ${id}: ${describe(e)}`);
    }
    const outcome: ApplyResult['outcome'] = !before ? 'created' : before.metadata?.resourceVersion === after.metadata?.resourceVersion ? 'unchanged' : 'configured';
    const r = { object: id, outcome };
    results.push(r);
    onProgress?.(r);
  }
  return results;
}

function describe(e: unknown): string {
  if (e instanceof k8s.ApiException) {
    const message = apiMessage(e);
    return message ? `${message} (HTTP ${e.code})` : `HTTP ${e.code}`;
  }
  return (e as Error).message;
}
