// What a node receives from an xDS server: connect as that node with meshfed's ADS client, walk LDS → RDS → CDS → EDS,
// decode (nested Any too).
import { createLogger } from '../log.ts';
import { XdsClient, type NodeInfo } from './adsClient.ts';
import { TYPE_URL, unpackAny, type AnyMessage } from './protos.ts';

export interface ProxyConfigDump {
  node: { id: string; locality?: NodeInfo['locality']; metadata: Record<string, string> };
  listeners: unknown[];
  routes: unknown[];
  clusters: unknown[];
  endpoints: unknown[];
}

/** Any fields inside a resource (api_listener, filters' typed_config: HTTP connection manager, RBAC…) decoded too. */
function unpackNested(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unpackNested);
  if (!v || typeof v !== 'object' || Buffer.isBuffer(v) || v instanceof Uint8Array) return v;
  const o = v as Record<string, unknown>;
  if (typeof o.type_url === 'string' && (Buffer.isBuffer(o.value) || o.value instanceof Uint8Array)) {
    try { return { '@type': o.type_url, ...(unpackNested(unpackAny(o as unknown as AnyMessage)) as object) }; } catch { return o; }
  }
  for (const k of Object.keys(o)) o[k] = unpackNested(o[k]);
  return o;
}

/** The first response of `type` for `names` (empty: wildcard), ACKed by the client; an error after timeoutMs. */
function ask(c: XdsClient, type: string, names: string[], timeoutMs: number): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type.slice(type.lastIndexOf('.') + 1)} response within ${timeoutMs} ms`)), timeoutMs);
    c.subscribe(type, names, (resources) => {
      clearTimeout(timer);
      resolve(resources.map((r) => unpackNested(r) as Record<string, unknown>));
    });
  });
}

/** `services` are `<host>:<port>` listener names; empty = wildcard CDS (sidecar/gateway). */
export async function dumpProxyConfig(address: string, node: ProxyConfigDump['node'], services: string[], timeoutMs = 5000): Promise<ProxyConfigDump> {
  const m = node.metadata;
  const role = m.MESHFED_ROLE === 'sidecar' || m.MESHFED_ROLE === 'gateway' ? m.MESHFED_ROLE : 'proxyless';
  const c = new XdsClient(address, { id: node.id, role, clusterId: m.CLUSTER_ID ?? '', network: m.NETWORK ?? '', locality: node.locality ?? { region: '' } }, createLogger('proxy-config', { level: 'silent' }));
  const running = c.start().catch(() => undefined);
  try {
    const out: ProxyConfigDump = { node, listeners: [], routes: [], clusters: [], endpoints: [] };
    let clusterNames: string[] = [];
    if (services.length) {
      out.listeners = await ask(c, TYPE_URL.listener, services, timeoutMs);
      out.routes = await ask(c, TYPE_URL.route, services, timeoutMs);
      for (const rt of out.routes as { virtual_hosts?: { routes?: { route?: { cluster?: string } | null }[] }[] }[])
        for (const vh of rt.virtual_hosts ?? []) for (const r of vh.routes ?? []) if (r.route?.cluster) clusterNames.push(r.route.cluster);
      clusterNames = [...new Set(clusterNames)];
      out.clusters = await ask(c, TYPE_URL.cluster, clusterNames, timeoutMs);
    } else {
      out.clusters = await ask(c, TYPE_URL.cluster, [], timeoutMs);
      clusterNames = (out.clusters as { name: string }[]).map((x) => x.name);
    }
    out.endpoints = await ask(c, TYPE_URL.endpoint, clusterNames, timeoutMs);
    return out;
  } finally {
    c.stop();
    await running;
  }
}
