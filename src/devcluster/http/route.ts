// Pure parsing of kube-apiserver resource URLs.
import { ApiError } from '../errors.ts';
export interface ResourcePath {
  group: string;
  version: string;
  namespace: string;
  plural: string;
  name: string;
  subresource: string;
}

/** /api/v1/[namespaces/<ns>/]<plural>[/<name>[/<sub>]] and /apis/<g>/<v>/… ; undefined when not a resource path. */
export function parseResourcePath(pathname: string): ResourcePath | undefined {
  const segs = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string, version: string, rest: string[];
  if (segs[0] === 'api' && segs.length >= 3) { group = ''; version = segs[1]; rest = segs.slice(2); }
  else if (segs[0] === 'apis' && segs.length >= 4) { group = segs[1]; version = segs[2]; rest = segs.slice(3); }
  else return undefined;
  let namespace = '';
  // `namespaces/<ns>/<plural>…` is namespaced; `namespaces/<name>[/status|finalize]` is the namespace itself.
  if (rest[0] === 'namespaces' && rest.length >= 3 && group === '' && !['status', 'finalize'].includes(rest[2]) || (rest[0] === 'namespaces' && rest.length >= 3 && group !== '')) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  if (rest.length < 1 || rest.length > 3) return undefined;
  return { group, version, namespace, plural: rest[0], name: rest[1] ?? '', subresource: rest[2] ?? '' };
}

export function verbOf(method: string, p: ResourcePath, watch: boolean): string {
  switch (method) {
    case 'GET': return p.name ? (watch ? 'watch' : 'get') : watch ? 'watch' : 'list';
    case 'POST': return 'create';
    case 'PUT': return 'update';
    case 'PATCH': return 'patch';
    case 'DELETE': return p.name ? 'delete' : 'deletecollection';
    default: return method.toLowerCase();
  }
}

/** A boolean query parameter as apimachinery reads it (strconv.ParseBool): 1 t T TRUE true True / 0 f F FALSE false False;
 *  anything else is a 400 naming the parameter. Absent or empty is false. */
export function queryBool(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null || v === '') return false;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw new ApiError(400, 'BadRequest', `invalid value for query parameter ${name}: ${JSON.stringify(v)} is not a boolean (use true or false)`);
}
