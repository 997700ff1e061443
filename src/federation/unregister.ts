// `meshfed cluster remove`: delete the registration Secret (the control plane stops watching) and, with purge,
// what meshfed created in the remote cluster — its reader identity and its replicas — never anything else.
import * as k8s from '@kubernetes/client-node';
import { ANNOTATIONS, LABELS, MANAGED_BY, SYSTEM_NAMESPACE } from './labels.ts';
import { READER_ROLE, READER_SA, registrationSecretName } from './registration.ts';
import { RegistrationError } from './register.ts';
import { orNotFound } from '../kube/apiError.ts';

export async function findRegistration(controlPlane: k8s.KubeConfig, name: string): Promise<k8s.V1Secret | undefined> {
  const core = controlPlane.makeApiClient(k8s.CoreV1Api);
  const list = await orNotFound(core.listNamespacedSecret({ namespace: SYSTEM_NAMESPACE, labelSelector: `${LABELS.multicluster}=true` }));
  return list?.items.find((s) => s.metadata?.annotations?.[ANNOTATIONS.clusterName] === name || s.metadata?.name === registrationSecretName(name));
}

export async function unregisterCluster(o: { controlPlane: k8s.KubeConfig; name: string; purge?: k8s.KubeConfig; onProgress?: (l: string) => void }): Promise<void> {
  const progress = o.onProgress ?? (() => {});
  const secret = await findRegistration(o.controlPlane, o.name);
  if (!secret) {
    const known = (await o.controlPlane.makeApiClient(k8s.CoreV1Api).listNamespacedSecret({ namespace: SYSTEM_NAMESPACE, labelSelector: `${LABELS.multicluster}=true` }).catch(() => ({ items: [] as k8s.V1Secret[] })))
      .items.map((s) => s.metadata?.annotations?.[ANNOTATIONS.clusterName]).filter(Boolean);
    throw new RegistrationError(`no cluster named "${o.name}" is registered (registered: ${known.join(', ') || 'none'})`);
  }
  // the Secret first: once the control plane stops watching, it will not re-create what the purge removes
  await o.controlPlane.makeApiClient(k8s.CoreV1Api).deleteNamespacedSecret({ name: secret.metadata!.name!, namespace: SYSTEM_NAMESPACE });
  progress(`deleted registration Secret ${SYSTEM_NAMESPACE}/${secret.metadata!.name}: the control plane stops watching "${o.name}"`);
  if (o.purge) {
    const api = k8s.KubernetesObjectApi.makeApiClient(o.purge);
    const core = o.purge.makeApiClient(k8s.CoreV1Api);
    const gone = async (obj: k8s.KubernetesObject, label: string): Promise<void> => {
      try { await api.delete(obj); progress(`deleted ${label}`); } catch (e) { if ((e as { code?: number }).code !== 404) throw new RegistrationError(`purging ${label} in "${o.name}": ${(e as Error).message}`); }
    };
    const replicas = await core.listServiceForAllNamespaces({ labelSelector: `${LABELS.managedBy}=${MANAGED_BY}` });
    for (const s of replicas.items) await gone({ apiVersion: 'v1', kind: 'Service', metadata: { name: s.metadata!.name!, namespace: s.metadata!.namespace! } }, `replica service ${s.metadata!.namespace}/${s.metadata!.name}`);
    await gone({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: READER_ROLE } }, `clusterrolebinding ${READER_ROLE}`);
    await gone({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: READER_ROLE } }, `clusterrole ${READER_ROLE}`);
    await gone({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: READER_SA, namespace: SYSTEM_NAMESPACE } }, `serviceaccount ${SYSTEM_NAMESPACE}/${READER_SA}`);
    // namespaces meshfed created, once they hold nothing of anyone else's
    const nss = await core.listNamespace({ labelSelector: `${LABELS.managedBy}=${MANAGED_BY}` });
    for (const ns of nss.items) {
      const name = ns.metadata!.name!;
      const [svcs, pods, sas] = await Promise.all([core.listNamespacedService({ namespace: name }), core.listNamespacedPod({ namespace: name }), core.listNamespacedServiceAccount({ namespace: name })]);
      const others = svcs.items.length + pods.items.length + sas.items.filter((s) => s.metadata?.name !== 'default').length;
      if (others === 0) await gone({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, `namespace ${name}`);
      else progress(`kept namespace ${name}: it holds objects meshfed did not create`);
    }
  }

}
