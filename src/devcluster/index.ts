// Library entry of the Kubernetes API stand-in.
export { startApiServer, kubeconfigFor, type ApiServer, type ApiServerOptions } from './server.js';
export { Store } from './store.js';
export { ApiError } from './errors.js';
export { BUILTIN_RESOURCES, ResourceTable } from './resources.js';
export type * from './types.js';
import { startApiServer, type ApiServer, type ApiServerOptions } from './server.js';

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
