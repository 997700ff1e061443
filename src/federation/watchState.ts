// Pure decision of a cluster watcher: what an informer error says about the cluster.

/** An HTTP answer (401/403/404…) means the cluster is there but refuses us: 'error'. No answer: 'unreachable'. */
export function classifyWatchError(err: unknown): { state: 'unreachable' | 'error'; reason: string } {
  const e = err as { statusCode?: number; code?: number | string; message?: string; body?: unknown; cause?: { code?: string; message?: string } };
  const status = typeof e?.statusCode === 'number' ? e.statusCode : typeof e?.code === 'number' ? e.code : undefined;
  if (status === 401) return { state: 'error', reason: 'credentials rejected (401 Unauthorized): the stored token is invalid or expired; re-run "meshfed cluster add"' };
  if (status === 403) return { state: 'error', reason: `access denied (403 Forbidden): the meshfed-reader ClusterRole is missing a permission; re-run "meshfed cluster add"${bodyMessage(e.body)}` };
  if (status !== undefined && status < 500) return { state: 'error', reason: `API server answered ${status}${bodyMessage(e.body)}` };
  const code = typeof e?.code === 'string' ? e.code : e?.cause?.code;
  const msg = e?.cause?.message ?? e?.message ?? String(err);
  return { state: 'unreachable', reason: code ? `${code}: ${msg}` : msg };
}

function bodyMessage(body: unknown): string {
  if (!body) return '';
  try {
    const b = typeof body === 'string' ? JSON.parse(body) as { message?: string } : body as { message?: string };
    return b.message ? ` (${b.message})` : '';
  } catch {
    return '';
  }
}
