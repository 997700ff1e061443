// Library entry of the Kubernetes API stand-in.
export { startApiServer, kubeconfigFor, type ApiServer, type ApiServerOptions } from './server.ts';
export { Store } from './store.ts';
export { ApiError } from './errors.ts';
export { BUILTIN_RESOURCES, ResourceTable } from './resources.ts';
export type * from './types.ts';
export type * from './hookTypes.ts';
export { writeKubeconfig } from './kubeconfigFile.ts';
import { startApiServer, type ApiServer, type ApiServerOptions } from './server.ts';

/** Start many stand-ins in one process; if one fails, the ones already started are closed. */
export async function startClusters(list: ApiServerOptions[]): Promise<ApiServer[]> {
  const names = new Set<string>();
  for (const o of list) {
    if (names.has(o.name)) throw new Error(`duplicate cluster name "${o.name}"`);
    names.add(o.name);
  }
  const started: ApiServer[] = [];
  try {
    for (const o of list) started.push(await startApiServer(o));
  } catch (e) {
    await Promise.all(started.map((s) => s.close()));
    throw e;
  }
  return started;
}
