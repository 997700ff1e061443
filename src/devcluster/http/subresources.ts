// Subresources kube-apiserver serves itself: pods/eviction (kubectl drain), deployments/scale (kubectl scale),
// and pods/log, pods/exec, pods/attach, pods/portforward, which the stand-in cannot serve (it runs no containers):
// those answer with a message saying so instead of a bare 404.
import { ApiError, badRequest } from '../errors.ts';
import type { Store } from '../store.ts';
import type { KubeObject, ResourceInfo } from '../types.ts';
import { jsonPatch, mergePatch, type Json } from '../patch.ts';

export interface SubresourceRequest {
  method: string;
  namespace: string;
  name: string;
  /** decoded body (undefined for GET) */
  body: unknown;
  contentType: string;
}

export interface SubresourceReply { code: number; body: unknown }

/** Subresources listed in discovery: what kind they take and which group/version that kind lives in. */
export const SUBRESOURCE_KINDS: Record<string, { kind?: string; group?: string; version?: string; verbs: string[] }> = {
  status: { verbs: ['get', 'patch', 'update'] },
  token: { kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] },
  eviction: { kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] },
  scale: { kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] },
  log: { kind: 'Pod', verbs: ['get'] },
  exec: { kind: 'PodExecOptions', verbs: ['create', 'get'] },
  attach: { kind: 'PodAttachOptions', verbs: ['create', 'get'] },
  portforward: { kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
};

const NO_CONTAINERS: Record<string, string> = {
  log: 'has no logs', exec: 'cannot run commands', attach: 'cannot be attached to', portforward: 'has no ports to forward',
};

/** The reply for a built-in subresource, or undefined when `sub` is not one of them. */
export function builtinSubresource(store: Store, info: ResourceInfo, sub: string, req: SubresourceRequest): SubresourceReply | undefined {
  if (info.group === '' && info.plural === 'pods') {
    if (sub === 'eviction') return evict(store, info, req);
    if (NO_CONTAINERS[sub]) {
      store.get(info, req.namespace, req.name); // 404 for a missing pod, as a real server
      throw badRequest(`pod "${req.name}" ${NO_CONTAINERS[sub]}: the meshfed stand-in API server stores Pods but runs no containers (use a real cluster, e.g. kind, for kubectl ${sub === 'log' ? 'logs' : sub})`);
    }
  }
  if (info.group === 'apps' && info.plural === 'deployments' && sub === 'scale') return scale(store, info, req);
  return undefined;
}

function evict(store: Store, info: ResourceInfo, req: SubresourceRequest): SubresourceReply {
  if (req.method !== 'POST') throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  const ev = (req.body ?? {}) as { kind?: string; metadata?: { name?: string }; deleteOptions?: { preconditions?: { uid?: string; resourceVersion?: string } } };
  if (ev.kind !== undefined && ev.kind !== 'Eviction') throw badRequest(`the body of a pods/eviction request must be an Eviction, not a ${ev.kind}`);
  if (ev.metadata?.name && ev.metadata.name !== req.name) throw badRequest(`name in URL does not match name in Eviction object`);
  store.delete(info, req.namespace, req.name, ev.deleteOptions?.preconditions ?? {});
  return { code: 201, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } };
}

/** autoscaling/v1 Scale of a Deployment. */
export function scaleOf(d: KubeObject): KubeObject {
  const spec = (d.spec ?? {}) as { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
  const status = (d.status ?? {}) as { replicas?: number };
  const sel = Object.entries(spec.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  return {
    kind: 'Scale', apiVersion: 'autoscaling/v1',
    metadata: { name: d.metadata.name, namespace: d.metadata.namespace, uid: d.metadata.uid, resourceVersion: d.metadata.resourceVersion, creationTimestamp: d.metadata.creationTimestamp },
    spec: { replicas: spec.replicas ?? 1 },
    status: { replicas: status.replicas ?? 0, ...(sel ? { selector: sel } : {}) },
  };
}

function scale(store: Store, info: ResourceInfo, req: SubresourceRequest): SubresourceReply {
  if (req.method === 'GET') return { code: 200, body: scaleOf(store.get(info, req.namespace, req.name)) };
  if (req.method !== 'PUT' && req.method !== 'PATCH') throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  const out = store.mutate(info, req.namespace, req.name, (cur) => {
    const now = scaleOf(cur) as unknown as Json;
    let next: Json;
    if (req.method === 'PUT') next = req.body as Json;
    else if (/json-patch/.test(req.contentType)) next = jsonPatch(now, req.body);
    else next = mergePatch(now, req.body as Json); // merge and strategic merge patch are the same on a Scale
    const s = next as { spec?: { replicas?: unknown }; metadata?: { resourceVersion?: string } };
    const replicas = s.spec?.replicas ?? 0;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0)
      throw new ApiError(422, 'Invalid', `Scale.autoscaling "${req.name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`);
    const rv = req.method === 'PUT' ? s.metadata?.resourceVersion : undefined;
    return { ...cur, metadata: { ...cur.metadata, resourceVersion: rv || cur.metadata.resourceVersion }, spec: { ...(cur.spec as object), replicas } };
  });
  return { code: 200, body: scaleOf(out) };
}
