// Pure: what an informer's failure says about its cluster.
import { apiMessage, apiStatus } from './apiError.ts';

/** An HTTP answer (401/403/404…) means the cluster is there but refuses us: 'error'. No answer: 'unreachable'. */
export function classifyWatchError(err: unknown): { state: 'unreachable' | 'error'; reason: string } {
  const e = err as { code?: number | string; message?: string; cause?: { code?: string; message?: string } };
  const status = apiStatus(e);
  if (status === 401) return { state: 'error', reason: 'credentials rejected (401 Unauthorized): the stored token is invalid or expired; re-run "meshfed cluster add"' };
  if (status === 403) return { state: 'error', reason: `access denied (403 Forbidden): the meshfed-reader ClusterRole is missing a permission; re-run "meshfed cluster add"${bodyMessage(e)}` };
  if (status !== undefined && status < 500) return { state: 'error', reason: `API server answered ${status}${bodyMessage(e)}` };
  const code = typeof e?.code === 'string' ? e.code : e?.cause?.code;
  const msg = (e?.cause?.message ?? e?.message) || String(err);
  return { state: 'unreachable', reason: code && !msg.includes(code) ? `${code}: ${msg}` : msg };
}

function bodyMessage(e: unknown): string {
  const m = apiMessage(e);
  return m ? ` (${m})` : '';
}
