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
  /** metadata LABELS (Istio's: the workload's labels), for DestinationRule failoverPriority */
  labels?: Readonly<Record<string, string>>;
}

/** The xDS Node as @grpc/proto-loader decodes it (keepCase). */
export interface RawNode {
  id?: string;
  locality?: { region?: string; zone?: string; sub_zone?: string } | null;
  metadata?: { fields?: Record<string, StructValue | undefined> } | null;
}

interface StructValue { string_value?: string; stringValue?: string; struct_value?: { fields?: Record<string, StructValue | undefined> } | null; structValue?: StructValue['struct_value'] }

/** metadata LABELS: a Struct of string values (other values are ignored). */
function metaLabels(node: RawNode): Record<string, string> | undefined {
  const v = node.metadata?.fields?.LABELS;
  const fields = (v?.struct_value ?? v?.structValue)?.fields;
  if (!fields) return undefined;
  const out: Record<string, string> = {};
  for (const [k, f] of Object.entries(fields)) {
    const s = f?.string_value ?? f?.stringValue;
    if (typeof s === 'string') out[k] = s;
  }
  return out;
}

function metaString(node: RawNode, key: string): string {
  const v = node.metadata?.fields?.[key];
  return v?.string_value ?? v?.stringValue ?? '';
}

/**
 * Role from MESHFED_ROLE; else metadata GENERATOR=grpc means a proxyless gRPC client whatever the id says (istiod's
 * rule: `istioctl x create-bootstrap`'s gRPC bootstrap names the node `sidecar~…`); else from an Istio-style id
 * prefix (router~ → gateway, sidecar~ → sidecar); else proxyless.
 */
export function roleOf(id: string, metaRole: string, generator = ''): ProxyRole {
  if (metaRole === 'proxyless' || metaRole === 'sidecar' || metaRole === 'gateway') return metaRole;
  if (generator === 'grpc') return 'proxyless';
  if (id.startsWith('router~')) return 'gateway';
  if (id.startsWith('sidecar~')) return 'sidecar';
  return 'proxyless';
}

export function parseNode(raw: RawNode | null | undefined): ProxyNode {
  const node = raw ?? {};
  const id = node.id ?? '';
  const labels = metaLabels(node);
  return {
    id,
    role: roleOf(id, metaString(node, 'MESHFED_ROLE'), metaString(node, 'GENERATOR')),
    cluster: metaString(node, 'CLUSTER_ID'),
    network: metaString(node, 'NETWORK'),
    locality: { region: node.locality?.region ?? '', zone: node.locality?.zone ?? '', subZone: node.locality?.sub_zone ?? '' },
    ...(labels ? { labels } : {}),
  };
}
