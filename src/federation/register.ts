// `meshfed cluster add` as a function (the CLI and the playground both call it): verify everything first, then
// create the narrow reader identity in the remote cluster, mint its token, and store a kubeconfig holding only
// that token as a Secret in the control-plane cluster. Anything this run created is rolled back on failure.
import * as k8s from '@kubernetes/client-node';
import { apiMessage, apiStatus, orNotFound } from '../kube/apiError.ts';
import { withDeadline } from '../kube/deadline.ts';
import { ANNOTATIONS, FIELD_MANAGER, LABELS, MANAGED_BY, SYSTEM_NAMESPACE } from './labels.ts';
import { READER_ROLE, READER_SA, readerClusterRole, readerClusterRoleBinding, registrationSecret, registrationSecretName, validateClusterName, type Registration } from './registration.ts';

/** One line a user can act on. */
export class RegistrationError extends Error {}

export interface RegisterOptions {
  /** the operator's credentials for the remote cluster (context already selected) */
  remote: k8s.KubeConfig;
  name: string;
  /** default: the remote kube-system namespace's network label, else its nodes' */
  network?: string;
  /** default: the remote nodes' region label */
  region?: string;
  /** the control-plane cluster, where the Secret is stored */
  controlPlane: k8s.KubeConfig;
  dryRun?: boolean;
  /** token lifetime; bound tokens need an expiry — re-run `cluster add` to renew */
  tokenSeconds?: number;
  timeoutMs?: number;
  onProgress?: (line: string) => void;
}

export interface RegisterResult {
  secret: k8s.V1Secret;
  registration: Omit<Registration, 'token'>;
  /** objects created in the remote cluster by this run (empty for a dry run) */
  created: string[];
}

export const DEFAULT_TOKEN_SECONDS = 365 * 24 * 3600;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return withDeadline(p, ms, () => new RegistrationError(`${what}: no answer within ${ms} ms`));
}

function reason(e: unknown): string {
  const status = apiStatus(e);
  if (status !== undefined) {
    const message = apiMessage(e);
    return message ? `${status}: ${message}` : `HTTP ${status}`;
  }
  const err = e as { message?: string; cause?: { code?: string; message?: string } };
  return err.cause?.code ? `${err.cause.code} ${err.cause.message ?? ''}`.trim() : (err.message ?? String(e));
}

export async function registerCluster(o: RegisterOptions): Promise<RegisterResult> {
  const progress = o.onProgress ?? (() => {});
  const timeout = o.timeoutMs ?? 5000;
  const bad = validateClusterName(o.name);
  if (bad) throw new RegistrationError(bad);
  const cluster = o.remote.getCurrentCluster();
  if (!cluster) throw new RegistrationError('the remote kubeconfig has no current cluster: pass --context');
  const core = o.remote.makeApiClient(k8s.CoreV1Api);

  // 1. the server answers, and tells us which cluster it is
  let uid: string;
  try {
    const ks = await withTimeout(core.readNamespace({ name: 'kube-system' }), timeout, `the API server ${cluster.server} of cluster "${o.name}"`);
    uid = ks.metadata?.uid ?? '';
  } catch (e) {
    if (e instanceof RegistrationError) throw e;
    const code = apiStatus(e);
    if (code === 401) throw new RegistrationError(`the remote kubeconfig's credentials are rejected by ${cluster.server} (401): fix the user in the kubeconfig`);
    if (code === 403) throw new RegistrationError(`the remote kubeconfig's user may not read namespace kube-system in ${cluster.server} (403): use cluster-admin credentials`);
    throw new RegistrationError(`cannot reach the API server ${cluster.server} of cluster "${o.name}": ${reason(e)}`);
  }

  // 2. the operator may create what registration needs
  const authz = o.remote.makeApiClient(k8s.AuthorizationV1Api);
  const needs: Array<[string, string, string, string?]> = [
    ['create', '', 'namespaces'], ['create', '', 'serviceaccounts', SYSTEM_NAMESPACE], ['create', 'rbac.authorization.k8s.io', 'clusterroles'],
    ['create', 'rbac.authorization.k8s.io', 'clusterrolebindings'], ['create', '', 'serviceaccounts/token', SYSTEM_NAMESPACE],
  ];
  for (const [verb, group, resource, namespace] of needs) {
    const [res, sub] = resource.split('/');
    const r = await authz.createSelfSubjectAccessReview({ body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb, group, resource: res, ...(sub ? { subresource: sub } : {}), ...(namespace ? { namespace } : {}) } } } })
      .catch((e: unknown) => { throw new RegistrationError(`cannot check the operator's permissions in "${o.name}": ${reason(e)}`); });
    if (!r.status?.allowed) throw new RegistrationError(`the remote kubeconfig's user may not ${verb} ${resource}${namespace ? ` in ${namespace}` : ''} in cluster "${o.name}": use credentials with cluster-admin rights`);
  }

  // 3. network and region
  let network = o.network;
  let region = o.region;
  if (!network || !region) {
    const [ks, nodes] = await Promise.all([core.readNamespace({ name: 'kube-system' }), core.listNode()]);
    network ??= ks.metadata?.labels?.[LABELS.network] ?? nodes.items.map((n) => n.metadata?.labels?.[LABELS.network]).find(Boolean);
    region ??= nodes.items.map((n) => n.metadata?.labels?.[LABELS.region]).find(Boolean);
    if (!network) throw new RegistrationError(`cluster "${o.name}" has no ${LABELS.network} label on kube-system or its nodes: pass --network`);
    if (!region) throw new RegistrationError(`cluster "${o.name}"'s nodes have no ${LABELS.region} label: pass --region`);
  }

  // 4. the name is free and the cluster is not registered under another name
  const cpCore = o.controlPlane.makeApiClient(k8s.CoreV1Api);
  let existing: k8s.V1Secret[];
  try {
    existing = (await withTimeout(cpCore.listNamespacedSecret({ namespace: SYSTEM_NAMESPACE, labelSelector: `${LABELS.multicluster}=true` }), timeout, 'the control-plane cluster')).items;
  } catch (e) {
    if (e instanceof RegistrationError) throw e;
    if (apiStatus(e) === 404) existing = [];
    else throw new RegistrationError(`cannot read registrations in the control-plane cluster (${o.controlPlane.getCurrentCluster()?.server}): ${reason(e)}`);
  }
  for (const s of existing) {
    const ann = s.metadata?.annotations ?? {};
    if (ann[ANNOTATIONS.clusterName] === o.name || s.metadata?.name === registrationSecretName(o.name)) {
      throw new RegistrationError(`a cluster named "${o.name}" is already registered: choose another --name, or "meshfed cluster remove ${o.name}" first`);
    }
    if (uid && ann[ANNOTATIONS.clusterUid] === uid) {
      throw new RegistrationError(`this cluster (kube-system uid ${uid}) is already registered as "${ann[ANNOTATIONS.clusterName]}": remove that registration first`);
    }
  }

  const base = { name: o.name, network, region, server: cluster.server, ...(cluster.caData ? { caData: cluster.caData } : {}), ...(cluster.skipTLSVerify ? { insecureSkipTLSVerify: true } : {}) };
  if (o.dryRun) {
    // GitOps: the Secret as it would be stored, with a placeholder where the token goes; nothing is created anywhere
    const secret = withUid(registrationSecret({ ...base, token: '<token of ServiceAccount meshfed-system/meshfed-reader>' }), uid);
    return { secret, registration: base, created: [] };
  }

  // 5. create the reader identity (remembering what was not there before) and its token
  const created: Array<{ label: string; undo: () => Promise<unknown> }> = [];
  const objects = k8s.KubernetesObjectApi.makeApiClient(o.remote);
  const ensure = async (obj: k8s.KubernetesObject, label: string): Promise<void> => {
    const existed = (await orNotFound(objects.read(obj as k8s.KubernetesObject & { metadata: { name: string } }))) !== undefined;
    await objects.patch(obj, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply);
    if (!existed) created.push({ label, undo: () => objects.delete(obj) });
    progress(`${existed ? 'updated' : 'created'} ${label} in ${o.name}`);
  };
  try {
    await ensure({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: SYSTEM_NAMESPACE, labels: { [LABELS.managedBy]: MANAGED_BY } } }, `namespace ${SYSTEM_NAMESPACE}`);
    await ensure({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: READER_SA, namespace: SYSTEM_NAMESPACE, labels: { [LABELS.managedBy]: MANAGED_BY } } } as k8s.KubernetesObject, `serviceaccount ${SYSTEM_NAMESPACE}/${READER_SA}`);
    await ensure(readerClusterRole(), `clusterrole ${READER_ROLE}`);
    await ensure(readerClusterRoleBinding(), `clusterrolebinding ${READER_ROLE}`);
    const tr = await core.createNamespacedServiceAccountToken({ name: READER_SA, namespace: SYSTEM_NAMESPACE, body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds: o.tokenSeconds ?? DEFAULT_TOKEN_SECONDS } } });
    const token = tr.status?.token;
    if (!token) throw new RegistrationError(`the TokenRequest for ${SYSTEM_NAMESPACE}/${READER_SA} in "${o.name}" returned no token`);
    progress(`minted a token for ${SYSTEM_NAMESPACE}/${READER_SA} (expires ${tr.status?.expirationTimestamp ? new Date(tr.status.expirationTimestamp).toISOString() : 'unknown'})`);

    // 6. store it in the control-plane cluster
    const secret = withUid(registrationSecret({ ...base, token }), uid);
    const cpObjects = k8s.KubernetesObjectApi.makeApiClient(o.controlPlane);
    await cpObjects.patch({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: SYSTEM_NAMESPACE } }, undefined, undefined, FIELD_MANAGER, false, k8s.PatchStrategy.ServerSideApply)
      .catch((e: unknown) => { if (apiStatus(e) !== 409) throw e; });
    await cpCore.createNamespacedSecret({ namespace: SYSTEM_NAMESPACE, body: secret }).catch((e: unknown) => {
      if (apiStatus(e) === 409) throw new RegistrationError(`a cluster named "${o.name}" was registered meanwhile: nothing changed`);
      throw new RegistrationError(`cannot store the registration Secret in the control-plane cluster: ${reason(e)}`);
    });
    progress(`stored Secret ${SYSTEM_NAMESPACE}/${secret.metadata!.name} in the control-plane cluster`);
    return { secret, registration: base, created: created.map((c) => c.label) };
  } catch (e) {
    for (const c of created.reverse()) await c.undo().catch(() => {});
    if (created.length) progress(`rolled back: ${created.map((c) => c.label).join(', ')}`);
    if (e instanceof RegistrationError) throw e;
    throw new RegistrationError(`registering "${o.name}" failed (${reason(e)}); everything this run created was removed`);
  }
}

function withUid(s: k8s.V1Secret, uid: string): k8s.V1Secret {
  if (uid) s.metadata!.annotations = { ...s.metadata!.annotations, [ANNOTATIONS.clusterUid]: uid };
  return s;
}
