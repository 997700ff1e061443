// Pure validation of incoming objects: names, apiVersion/kind for the URL, service ports.
import type { KubeObject, ResourceInfo, StatusCause } from './types.ts';
import { apiVersionOf } from './resources.ts';
import { badRequest, invalid } from './errors.ts';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Kinds whose names must be DNS-1123 labels (not subdomains). */
const LABEL_NAMED = new Set(['Namespace', 'Service']);

export function nameErrors(kind: string, name: string | undefined, field = 'metadata.name'): StatusCause[] {
  if (!name) return [{ field, reason: 'FieldValueRequired', message: 'Required value: name or generateName is required' }];
  const label = LABEL_NAMED.has(kind);
  const max = label ? 63 : 253;
  const re = label ? DNS1123_LABEL : DNS1123_SUBDOMAIN;
  if (name.length > max) return [{ field, message: `Invalid value: "${name}": must be no more than ${max} characters` }];
  if (!re.test(name))
    return [{ field, message: `Invalid value: "${name}": a lowercase RFC 1123 ${label ? 'label' : 'subdomain'} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character` }];
  return [];
}

/** Check that a decoded body is an object of the URL's kind; throws 400. */
export function checkShape(info: ResourceInfo, body: unknown): KubeObject {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the request body must be a JSON or YAML object');
  const o = body as Record<string, unknown>;
  const want = apiVersionOf(info);
  if (o.kind !== undefined && o.kind !== info.kind)
    throw badRequest(`the kind "${String(o.kind)}" in the body does not match the kind "${info.kind}" of the URL (field: kind)`);
  if (o.apiVersion !== undefined && o.apiVersion !== want && !(info.group && String(o.apiVersion).startsWith(info.group + '/')))
    throw badRequest(`the apiVersion "${String(o.apiVersion)}" in the body does not match "${want}" of the URL (field: apiVersion)`);
  if (o.metadata !== undefined && (typeof o.metadata !== 'object' || o.metadata === null || Array.isArray(o.metadata)))
    throw badRequest('metadata must be an object (field: metadata)');
  return { ...o, apiVersion: want, kind: info.kind, metadata: { ...((o.metadata as object) ?? {}) } } as KubeObject;
}

export function serviceErrors(obj: KubeObject): StatusCause[] {
  const spec = (obj.spec ?? {}) as { ports?: unknown; type?: string };
  const causes: StatusCause[] = [];
  const ports = spec.ports;
  if (ports === undefined) {
    if (spec.type !== 'ExternalName') causes.push({ field: 'spec.ports', reason: 'FieldValueRequired', message: 'Required value' });
    return causes;
  }
  if (!Array.isArray(ports)) return [{ field: 'spec.ports', reason: 'FieldValueInvalid', message: 'must be a list' }];
  const seen = new Set<string>();
  ports.forEach((p: Record<string, unknown>, i: number) => {
    const port = p?.port;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
      causes.push({ field: `spec.ports[${i}].port`, message: `Invalid value: ${JSON.stringify(port)}: must be between 1 and 65535, inclusive` });
    const proto = (p?.protocol as string | undefined) ?? 'TCP';
    if (!['TCP', 'UDP', 'SCTP'].includes(proto))
      causes.push({ field: `spec.ports[${i}].protocol`, reason: 'FieldValueNotSupported', message: `Unsupported value: "${proto}"` });
    if (ports.length > 1 && !p?.name) causes.push({ field: `spec.ports[${i}].name`, reason: 'FieldValueRequired', message: 'Required value' });
    const tp = p?.targetPort;
    if (typeof tp === 'number' && (tp < 1 || tp > 65535))
      causes.push({ field: `spec.ports[${i}].targetPort`, message: `Invalid value: ${tp}: must be between 1 and 65535, inclusive` });
    const key = `${port}/${proto}`;
    if (seen.has(key)) causes.push({ field: `spec.ports[${i}]`, reason: 'FieldValueDuplicate', message: `Duplicate value: "${key}"` });
    seen.add(key);
  });
  return causes;
}

export function validateObject(info: ResourceInfo, obj: KubeObject): void {
  const causes = [...nameErrors(info.kind, obj.metadata.name)];
  if (info.kind === 'Service' && info.group === '') causes.push(...serviceErrors(obj));
  for (const [field, map] of [['metadata.labels', obj.metadata.labels], ['metadata.annotations', obj.metadata.annotations]] as const) {
    if (map !== undefined && (typeof map !== 'object' || map === null || Array.isArray(map))) { causes.push({ field, message: 'Invalid value: must be a map of string keys to string values' }); continue; }
    for (const k of Object.keys(map ?? {})) {
      if (!QUALIFIED_NAME.test(k)) causes.push({ field, message: `Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, with an optional DNS subdomain prefix and '/'` });
    }
  }
  for (const [k, v] of Object.entries(obj.metadata.labels ?? {})) {
    if (typeof v !== 'string' || v.length > 63 || !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v))
      causes.push({ field: `metadata.labels`, message: `Invalid value: ${JSON.stringify(v)}: label value for "${k}" must be 63 characters or less, alphanumeric, '-', '_' or '.'` });
  }
  if (causes.length) throw invalid(info.kind, info.group, obj.metadata.name ?? '', causes);
}
