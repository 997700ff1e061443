// What a node receives from an xDS server: connect as that node, walk LDS → RDS → CDS → EDS, decode.
import { AdsClient, type AdsResponse, type XdsNode } from './client.ts';
import { TYPE_URL, unpackAny, type AnyMessage } from './protos.ts';

export interface ProxyConfigDump {
  node: XdsNode;
  listeners: unknown[];
  routes: unknown[];
  clusters: unknown[];
  endpoints: unknown[];
}

function decode(a: AnyMessage): Record<string, unknown> {
  return unpackNested(unpackAny(a)) as Record<string, unknown>;
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

async function ask(c: AdsClient, type: string, names: string[], timeoutMs: number): Promise<Record<string, unknown>[]> {
  c.send(type, names);
  let r: AdsResponse;
  do r = await c.next(timeoutMs);
  while (r.type_url !== type);
  c.send(type, names, { version: r.version_info, nonce: r.nonce });
  return r.resources.map(decode);
}

/** `services` are `<host>:<port>` listener names; empty = wildcard CDS (sidecar/gateway). */
export async function dumpProxyConfig(address: string, node: XdsNode, services: string[], timeoutMs = 5000): Promise<ProxyConfigDump> {
  const c = new AdsClient(address, node);
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
    c.close();
  }
}
