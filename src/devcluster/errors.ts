// Kubernetes Status errors thrown by the store and server, rendered as `Status` objects.
import type { KubeStatus, StatusCause } from './types.ts';

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details: KubeStatus['details'] = undefined,
  ) {
    super(message);
  }
  toStatus(): KubeStatus {
    const s: KubeStatus = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, code: this.code };
    if (this.details) s.details = this.details;
    return s;
  }
}

const gr = (group: string, plural: string) => (group ? `${plural}.${group}` : plural);

export const notFound = (group: string, plural: string, name: string) =>
  new ApiError(404, 'NotFound', `${gr(group, plural)} "${name}" not found`, { name, group, kind: plural });
export const alreadyExists = (group: string, plural: string, name: string) =>
  new ApiError(409, 'AlreadyExists', `${gr(group, plural)} "${name}" already exists`, { name, group, kind: plural });
export const conflict = (group: string, plural: string, name: string, why: string) =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${gr(group, plural)} "${name}": ${why}`, { name, group, kind: plural });
export const invalid = (kind: string, group: string, name: string, causes: StatusCause[]) =>
  new ApiError(
    422,
    'Invalid',
    `${kind}${group ? '.' + group : ''} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`,
    { name, group, kind, causes: causes.map((c) => ({ reason: c.reason ?? 'FieldValueInvalid', message: c.message, field: c.field })) },
  );
export const badRequest = (message: string) => new ApiError(400, 'BadRequest', message);
export const gone = (message: string) => new ApiError(410, 'Expired', message);
export const methodNotAllowed = (message: string) => new ApiError(405, 'MethodNotAllowed', message);
export const forbidden = (message: string) => new ApiError(403, 'Forbidden', message);
export const unauthorized = (message = 'Unauthorized') => new ApiError(401, 'Unauthorized', message);
