// Label and field selector parsing and matching (kube-apiserver syntax).
import { badRequest } from './errors.ts';

export type Requirement =
  | { key: string; op: 'eq' | 'neq'; values: [string] }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'notexists'; values: [] };

/** Parse e.g. `app=web,tier!=db,env in (a,b),!legacy,release`. Throws a 400 ApiError on bad syntax. */
export function parseSelector(sel: string | undefined | null): Requirement[] {
  if (!sel || !sel.trim()) return [];
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of sel) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts.map((raw) => {
    const p = raw.trim();
    let m: RegExpMatchArray | null;
    if ((m = p.match(/^!\s*([\w./-]+)$/))) return { key: m[1], op: 'notexists', values: [] };
    if ((m = p.match(/^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/)))
      return { key: m[1], op: m[2] as 'in' | 'notin', values: m[3].split(',').map((v) => v.trim()).filter((v) => v !== '') };
    if ((m = p.match(/^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/))) return { key: m[1], op: m[2] === '!=' ? 'neq' : 'eq', values: [m[3]] };
    if ((m = p.match(/^([\w./-]+)$/))) return { key: m[1], op: 'exists', values: [] };
    throw badRequest(`unable to parse requirement: "${p}" in selector "${sel}"`);
  });
}

export function matches(reqs: Requirement[], fields: Record<string, string | undefined>): boolean {
  return reqs.every((r) => {
    const v = fields[r.key];
    switch (r.op) {
      case 'eq': return v === r.values[0];
      case 'neq': return v !== r.values[0];
      case 'in': return v !== undefined && r.values.includes(v);
      case 'notin': return v === undefined || !r.values.includes(v);
      case 'exists': return v !== undefined;
      case 'notexists': return v === undefined;
    }
  });
}

const OBJECT_REF = ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'];
/** The field selectors kube-apiserver offers (pods, nodes, secrets, and Events: core/v1 involvedObject.*, events.k8s.io regarding.*). */
const SUPPORTED_FIELDS = new Set([
  'metadata.name', 'metadata.namespace', 'spec.nodeName', 'spec.serviceAccountName', 'spec.unschedulable', 'status.phase', 'status.podIP', 'type',
  ...OBJECT_REF.map((f) => `involvedObject.${f}`), ...OBJECT_REF.map((f) => `regarding.${f}`),
  'reason', 'source', 'reportingComponent', 'reportingController',
]);

export function parseFieldSelector(sel: string | undefined | null): Requirement[] {
  const reqs = parseSelector(sel);
  for (const r of reqs) {
    if (!SUPPORTED_FIELDS.has(r.key) || (r.op !== 'eq' && r.op !== 'neq'))
      throw badRequest(`field label not supported: ${r.key}`);
  }
  return reqs;
}

export function fieldsOf(obj: { metadata: { name?: string; namespace?: string }; [k: string]: unknown }): Record<string, string | undefined> {
  const spec = (obj.spec ?? {}) as Record<string, unknown>;
  const status = (obj.status ?? {}) as Record<string, unknown>;
  // a core/v1 Event names its object in involvedObject, an events.k8s.io/v1 Event in regarding: either answers both
  const involved = (obj.involvedObject ?? obj.regarding ?? {}) as Record<string, unknown>;
  const regarding = (obj.regarding ?? obj.involvedObject ?? {}) as Record<string, unknown>;
  const source = (obj.source ?? obj.deprecatedSource ?? {}) as Record<string, unknown>;
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  return {
    'metadata.name': obj.metadata.name,
    'metadata.namespace': obj.metadata.namespace ?? '',
    'spec.nodeName': typeof spec.nodeName === 'string' ? spec.nodeName : '',
    'status.phase': typeof status.phase === 'string' ? status.phase : '',
    type: typeof obj.type === 'string' ? obj.type : '',
    'spec.serviceAccountName': str(spec.serviceAccountName),
    'spec.unschedulable': spec.unschedulable === true ? 'true' : 'false',
    'status.podIP': str(status.podIP),
    ...Object.fromEntries(OBJECT_REF.map((f) => [`involvedObject.${f}`, str(involved[f])])),
    ...Object.fromEntries(OBJECT_REF.map((f) => [`regarding.${f}`, str(regarding[f])])),
    reason: str(obj.reason),
    source: str(source.component) || str(obj.reportingController) || str(obj.reportingComponent),
    reportingComponent: str(obj.reportingComponent) || str(obj.reportingController),
    reportingController: str(obj.reportingController) || str(obj.reportingComponent),
  };
}
