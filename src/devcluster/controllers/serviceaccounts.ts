// Keeps a `default` ServiceAccount in every namespace, as kube-controller-manager's serviceaccounts controller.
import type { Store } from '../store.ts';
import type { KubeObject, StandinLog } from '../types.ts';
import type { Controller } from '../hookTypes.ts';
import { silentLog } from '../defaults.ts';

/** Pure decision: namespaces (not terminating) that lack a `default` ServiceAccount. */
export function namespacesMissingDefault(namespaces: KubeObject[], serviceAccounts: KubeObject[]): string[] {
  const have = new Set(serviceAccounts.filter((s) => s.metadata.name === 'default').map((s) => s.metadata.namespace));
  return namespaces
    .filter((n) => !n.metadata.deletionTimestamp && (n.status as { phase?: string } | undefined)?.phase !== 'Terminating')
    .map((n) => String(n.metadata.name))
    .filter((n) => !have.has(n));
}

export function serviceAccountController(log: StandinLog = silentLog): Controller {
  const stops: Array<() => void> = [];
  let store: Store | undefined;
  const reconcile = () => {
    if (!store) return;
    const nsInfo = store.info('', 'namespaces');
    const saInfo = store.info('', 'serviceaccounts');
    const missing = namespacesMissingDefault(store.list(nsInfo, '').items, store.list(saInfo, '', { fieldSelector: 'metadata.name=default' }).items);
    for (const ns of missing) {
      try {
        store.create(saInfo, ns, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: ns } });
      } catch (e) {
        log.warn({ controller: 'serviceaccounts', cluster: store.cluster, namespace: ns, err: (e as Error).message }, 'could not create the default ServiceAccount');
      }
    }
  };
  return {
    start(s) {
      store = s;
      const rv = s.currentResourceVersion();
      stops.push(s.watch(s.info('', 'namespaces'), '', { resourceVersion: rv }, () => queueMicrotask(reconcile)));
      stops.push(s.watch(s.info('', 'serviceaccounts'), '', { resourceVersion: rv }, (e) => { if (e.type === 'DELETED') queueMicrotask(reconcile); }));
      reconcile();
    },
    stop() { for (const f of stops.splice(0)) f(); store = undefined; },
  };
}
