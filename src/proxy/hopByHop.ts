// Pure: what an HTTP proxy must not forward.
/** Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection and are not forwarded by a proxy. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/**
 * The request headers a proxy forwards: without hop-by-hop headers and those the Connection header names. A client's
 * `Connection: close` must not close the sidecar's pooled upstream connection.
 */
export function withoutHopByHop(h: Readonly<Record<string, string | string[] | undefined>>): Record<string, string | string[] | undefined> {
  const named = new Set(String(h.connection ?? '').toLowerCase().split(',').map((x) => x.trim()).filter(Boolean));
  const out: Record<string, string | string[] | undefined> = {};
  for (const [k, v] of Object.entries(h)) if (!HOP_BY_HOP.has(k) && !named.has(k)) out[k] = v;
  return out;
}
