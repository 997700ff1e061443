// What a failed Kubernetes API call says: client-node's ApiException carries the HTTP status in `code` and the
// apiserver's Status object (as JSON text or parsed) in `body`; a watch failure carries it in `statusCode`.

export function apiStatus(e: unknown): number | undefined {
  const err = e as { code?: unknown; statusCode?: unknown } | null | undefined;
  if (typeof err?.code === 'number') return err.code;
  return typeof err?.statusCode === 'number' ? err.statusCode : undefined;
}

/** The apiserver's own words (Status.message), when the failure came with a Status body. */
export function apiMessage(e: unknown): string | undefined {
  const body = (e as { body?: unknown } | null | undefined)?.body;
  if (!body) return undefined;
  try {
    const b = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: unknown };
    return typeof b?.message === 'string' && b.message ? b.message : undefined;
  } catch {
    return undefined;
  }
}

/** The call's result, or undefined when the object does not exist (404); any other failure is thrown. */
export async function orNotFound<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (apiStatus(e) === 404) return undefined;
    throw e;
  }
}
