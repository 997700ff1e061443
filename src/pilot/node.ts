// Who is asking: the xDS Node of a proxy reduced to what translation needs (role, network, locality).
import type { Locality } from '../mesh/types.ts';

export type ProxyRole = 'proxyless' | 'sidecar' | 'gateway';

export interface ProxyNode {
  id: string;
  role: ProxyRole;
  /** member cluster (metadata CLUSTER_ID), '' when unknown */
  cluster: string;
  /** metadata NETWORK; '' = no split horizon (every endpoint is treated as reachable) */
  network: string;
  locality: Locality;
}

/** The xDS Node as @grpc/proto-loader decodes it (keepCase). */
export interface RawNode {
  id?: string;
  locality?: { region?: string; zone?: string; sub_zone?: string } | null;
  metadata?: { fields?: Record<string, { string_value?: string; stringValue?: string } | undefined> } | null;
}

function metaString(node: RawNode, key: string): string {
  const v = node.metadata?.fields?.[key];
  return v?.string_value ?? v?.stringValue ?? '';
}

/** Role from MESHFED_ROLE, else from an Istio-style id prefix (router~ → gateway, sidecar~ → sidecar), else proxyless. */
export function roleOf(id: string, metaRole: string): ProxyRole {
  if (metaRole === 'proxyless' || metaRole === 'sidecar' || metaRole === 'gateway') return metaRole;
  if (id.startsWith('router~')) return 'gateway';
  if (id.startsWith('sidecar~')) return 'sidecar';
  return 'proxyless';
}

export function parseNode(raw: RawNode | null | undefined): ProxyNode {
  const node = raw ?? {};
  const id = node.id ?? '';
  return {
    id,
    role: roleOf(id, metaString(node, 'MESHFED_ROLE')),
    cluster: metaString(node, 'CLUSTER_ID'),
    network: metaString(node, 'NETWORK'),
    locality: { region: node.locality?.region ?? '', zone: node.locality?.zone ?? '', subZone: node.locality?.sub_zone ?? '' },
  };
}
