// Names that mesh users already know (Istio's conventions). Pure functions, shared by pilot and proxies.

export const PORTS = {
  xdsPlaintext: 15010,
  xdsTls: 15012,
  admin: 15014,
  eastWestGateway: 15443,
  gatewayHealth: 15021,
  proxyMetrics: 15090,
  sidecarOutbound: 15001,
  sidecarInbound: 15006,
} as const;

export function serviceHostname(name: string, namespace: string, domainSuffix = 'cluster.local'): string {
  return `${name}.${namespace}.svc.${domainSuffix}`;
}

/** `outbound|<port>|<subset>|<host>` — the xDS cluster (and EDS) name. */
export function outboundClusterName(host: string, port: number, subset = ''): string {
  return `outbound|${port}|${subset}|${host}`;
}

export function parseOutboundClusterName(name: string): { host: string; port: number; subset: string } | undefined {
  const m = /^outbound\|(\d+)\|([^|]*)\|(.+)$/.exec(name);
  if (!m) return undefined;
  return { port: Number(m[1]), subset: m[2]!, host: m[3]! };
}

/** `outbound_.<port>_.<subset>_.<host>` — the SNI a client sends through an east-west gateway. */
export function gatewaySni(host: string, port: number, subset = ''): string {
  return `outbound_.${port}_.${subset}_.${host}`;
}

export function parseGatewaySni(sni: string): { host: string; port: number; subset: string } | undefined {
  const m = /^outbound_\.(\d{1,5})_\.([^.]*)_\.([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/i.exec(sni);
  if (!m) return undefined;
  const port = Number(m[1]);
  if (port < 1 || port > 65535) return undefined;
  if (m[3]!.includes('..')) return undefined;
  return { port, subset: m[2]!, host: m[3]!.toLowerCase() };
}

/** Listener name a proxyless gRPC client asks for: `<host>:<port>`. */
export function listenerName(host: string, port: number): string {
  return `${host}:${port}`;
}

/** Istio's xDS node id: `<type>~<ip>~<name>.<namespace>~<namespace>.svc.cluster.local` (sidecar: a pod; router: a gateway) */
export function xdsNodeId(type: 'sidecar' | 'router', ip: string, name: string, namespace: string): string {
  return `${type}~${ip}~${name}.${namespace}~${namespace}.svc.cluster.local`;
}

export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

export function parseSpiffeId(uri: string): { trustDomain: string; namespace: string; serviceAccount: string } | undefined {
  const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(uri);
  if (!m) return undefined;
  return { trustDomain: m[1]!, namespace: m[2]!, serviceAccount: m[3]! };
}
