// The xDS node a client sends on its first DiscoveryRequest, for every meshfed ADS client (proxies, proxy-config,
// tests). Metadata is a google.protobuf.Struct: protobufjs' built-in Struct names its Value fields in camelCase
// (stringValue, structValue), so that is the one spelling here (docs/CONTRACTS.md, "Struct values").

export interface NodeInfoMessage {
  id: string;
  locality?: { region?: string; zone?: string; sub_zone?: string };
  /** string values, or one level of nested string maps (Istio's LABELS) */
  metadata?: Readonly<Record<string, string | Readonly<Record<string, string>>>>;
}

type StructValue = { stringValue: string } | { structValue: { fields: Record<string, { stringValue: string }> } };

export function nodeMessage(n: NodeInfoMessage): { id: string; locality: NonNullable<NodeInfoMessage['locality']>; metadata: { fields: Record<string, StructValue> } } {
  const fields: Record<string, StructValue> = {};
  for (const [k, v] of Object.entries(n.metadata ?? {})) {
    fields[k] = typeof v === 'string' ? { stringValue: v } : { structValue: { fields: Object.fromEntries(Object.entries(v).map(([lk, lv]) => [lk, { stringValue: lv }])) } };
  }
  return { id: n.id, locality: n.locality ?? {}, metadata: { fields } };
}
