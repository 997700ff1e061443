// Pure: which mesh service an outbound HTTP request is for (absolute-form URL or Host header).
export interface OutboundTarget { host: string; port: number; path: string }

export function parseOutboundTarget(url: string, hostHeader: string | undefined): OutboundTarget | { error: string } {
  let authority: string | undefined;
  let path = url;
  const abs = /^http:\/\/([^/?#]+)(.*)$/i.exec(url);
  if (abs) { authority = abs[1]; path = abs[2] || '/'; } else authority = hostHeader;
  if (!authority) return { error: 'request has neither an absolute URL nor a Host header' };
  const m = /^([a-z0-9.-]+)(?::(\d{1,5}))?$/i.exec(authority);
  if (!m) return { error: `cannot parse authority ${JSON.stringify(authority)}` };
  const port = m[2] ? Number(m[2]) : 80;
  if (port < 1 || port > 65535) return { error: `bad port in ${authority}` };
  return { host: m[1]!.toLowerCase(), port, path };
}

/** Names to try for a host the app wrote: as written, `<name>.<ns>` and bare `<name>` expanded like kube DNS. */
export function candidateHosts(host: string, namespace: string, domainSuffix = 'cluster.local'): string[] {
  const parts = host.split('.');
  if (parts.length === 1) return [host, `${host}.${namespace}.svc.${domainSuffix}`];
  if (parts.length === 2) return [host, `${host}.svc.${domainSuffix}`];
  return [host];
}

export const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
