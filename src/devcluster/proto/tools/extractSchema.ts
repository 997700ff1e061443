// Dev tool, not used at run time: derives the message table of ../messages.ts from the Go struct tags of
// k8s.io/api and k8s.io/apimachinery (field number, JSON name, omitempty, pointer-ness, Go type).
// Usage: node --import tsx src/devcluster/proto/tools/extractSchema.ts <k8s.io/api dir> <k8s.io/apimachinery dir> <root kinds…> > messages.json
// (then format as messages.ts). The root kinds of messages.ts (every message they reach is included):
//   k8s.io/api/core/v1.Namespace k8s.io/api/core/v1.ConfigMap k8s.io/api/core/v1.Secret
//   k8s.io/api/core/v1.ServiceAccount k8s.io/api/core/v1.Service k8s.io/api/core/v1.Pod k8s.io/api/core/v1.Node
//   k8s.io/api/core/v1.Endpoints k8s.io/api/core/v1.Event k8s.io/api/core/v1.Binding k8s.io/api/apps/v1.Deployment
//   k8s.io/api/rbac/v1.Role k8s.io/api/rbac/v1.RoleBinding k8s.io/api/rbac/v1.ClusterRole
//   k8s.io/api/rbac/v1.ClusterRoleBinding k8s.io/api/authentication/v1.TokenRequest
//   k8s.io/api/authentication/v1.TokenReview k8s.io/api/authentication/v1.SelfSubjectReview
//   k8s.io/api/authorization/v1.SelfSubjectAccessReview k8s.io/api/authorization/v1.SubjectAccessReview
//   k8s.io/api/authorization/v1.SelfSubjectRulesReview k8s.io/api/policy/v1.Eviction
//   k8s.io/api/policy/v1.PodDisruptionBudget k8s.io/api/discovery/v1.EndpointSlice k8s.io/api/events/v1.Event
//   k8s.io/api/coordination/v1.Lease k8s.io/api/autoscaling/v1.Scale
//   k8s.io/apimachinery/pkg/apis/meta/v1.DeleteOptions
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const [apiDir, machDir] = process.argv.slice(2);
const PKGS: Record<string, string> = {
  'k8s.io/api/core/v1': join(apiDir, 'core/v1'), 'k8s.io/api/apps/v1': join(apiDir, 'apps/v1'),
  'k8s.io/api/rbac/v1': join(apiDir, 'rbac/v1'), 'k8s.io/api/authentication/v1': join(apiDir, 'authentication/v1'),
  'k8s.io/api/authorization/v1': join(apiDir, 'authorization/v1'), 'k8s.io/api/policy/v1': join(apiDir, 'policy/v1'),
  'k8s.io/api/discovery/v1': join(apiDir, 'discovery/v1'), 'k8s.io/api/events/v1': join(apiDir, 'events/v1'),
  'k8s.io/api/coordination/v1': join(apiDir, 'coordination/v1'), 'k8s.io/api/autoscaling/v1': join(apiDir, 'autoscaling/v1'),
  'k8s.io/apimachinery/pkg/apis/meta/v1': join(machDir, 'pkg/apis/meta/v1'),
};
const SHORT: Record<string, string> = {
  'k8s.io/api/core/v1': 'core', 'k8s.io/api/apps/v1': 'apps', 'k8s.io/api/rbac/v1': 'rbac', 'k8s.io/api/authentication/v1': 'authn',
  'k8s.io/api/authorization/v1': 'authz', 'k8s.io/api/policy/v1': 'policy', 'k8s.io/api/discovery/v1': 'discovery', 'k8s.io/api/events/v1': 'events',
  'k8s.io/api/coordination/v1': 'coordination', 'k8s.io/api/autoscaling/v1': 'autoscaling', 'k8s.io/apimachinery/pkg/apis/meta/v1': 'meta',
};
// types with a hand-written JSON form
const SPECIAL: Record<string, string> = {
  'k8s.io/apimachinery/pkg/apis/meta/v1.Time': 'Time', 'k8s.io/apimachinery/pkg/apis/meta/v1.MicroTime': 'MicroTime',
  'k8s.io/apimachinery/pkg/apis/meta/v1.Duration': 'Duration', 'k8s.io/apimachinery/pkg/apis/meta/v1.FieldsV1': 'FieldsV1',
  'k8s.io/apimachinery/pkg/api/resource.Quantity': 'Quantity', 'k8s.io/apimachinery/pkg/util/intstr.IntOrString': 'IntOrString',
  'k8s.io/apimachinery/pkg/runtime.RawExtension': 'RawExtension', 'k8s.io/apimachinery/pkg/types.UID': 'string',
  'k8s.io/apimachinery/pkg/types.NodeName': 'string',
};
interface GoField { name: string; type: string; json: string; proto?: string; embedded: boolean; patch: string }
const structs = new Map<string, GoField[]>(); // qualified name
const named = new Map<string, string>(); // qualified → underlying type expr (qualified)
const imports = new Map<string, Map<string, string>>(); // pkg → alias → path

for (const [pkg, dir] of Object.entries(PKGS)) {
  if (!existsSync(dir)) throw new Error(`missing ${dir}`);
  const al = new Map<string, string>();
  imports.set(pkg, al);
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.go') && !f.endsWith('_test.go') && !f.startsWith('zz_') && f !== 'generated.pb.go')) {
    const src = readFileSync(join(dir, f), 'utf8');
    for (const m of src.matchAll(/^\s*(?:(\w+)\s+)?"(k8s\.io\/[^"]+)"/gm)) al.set(m[1] ?? m[2].split('/').pop()!, m[2]);
    const lines = src.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const s = /^type (\w+) struct \{/.exec(lines[i]);
      if (s) {
        const fields: GoField[] = [];
        let depth = 1;
        for (i++; i < lines.length && depth > 0; i++) {
          const l = lines[i].replace(/\/\/.*$/, '');
          if (/^\s*\}/.test(l) && depth === 1) break;
          const t = /^\s*(.*?)\s*`([^`]*)`/.exec(l);
          if (!t) continue;
          const toks = t[1].trim().split(/\s+/);
          const json = /json:"([^"]*)"/.exec(t[2])?.[1] ?? '';
          const proto = /protobuf:"([^"]*)"/.exec(t[2])?.[1];
          fields.push({ name: toks.length === 1 ? toks[0].replace(/^\*/, '').split('.').pop()! : toks[0], type: toks.length === 1 ? toks[0] : toks[1], json, proto, embedded: toks.length === 1, patch: [/patchStrategy:"([^"]*)"/.exec(t[2])?.[1], /patchMergeKey:"([^"]*)"/.exec(t[2])?.[1]].filter(Boolean).join(':') });
        }
        structs.set(`${pkg}.${s[1]}`, fields);
        continue;
      }
      const n = /^type (\w+) ([\w.\[\]\*]+)\s*(?:\/\/.*)?$/.exec(lines[i]);
      if (n && n[2] !== 'struct') named.set(`${pkg}.${n[1]}`, n[2]);
    }
  }
}
const seenPkgs = new Set(Object.keys(PKGS));
function qualify(pkg: string, t: string): string {
  if (t.includes('.')) { const [a, b] = t.split('.'); const p = imports.get(pkg)!.get(a); if (!p) throw new Error(`${pkg}: unknown import ${a}`); return `${p}.${b}`; }
  return `${pkg}.${t}`;
}
const BASIC = new Set(['string', 'int32', 'int64', 'bool', 'float64', 'int', 'byte', 'uint32', 'uint64']);
const out: Record<string, Array<[number, string, string, string] | [number, string, string, string, string]>> = {};
const want: string[] = process.argv.slice(4);
const queue = [...want];
function typeRef(pkg: string, t: string): string {
  // returns a type descriptor: "string", "int32", "bytes", "Time"…, "msg:Name", "[]<desc>", "map<k,v>"
  if (t.startsWith('*')) return typeRef(pkg, t.slice(1));
  if (t === '[]byte') return 'bytes';
  if (t.startsWith('[]')) return '[]' + typeRef(pkg, t.slice(2));
  const mm = /^map\[([\w.]+)\](.+)$/.exec(t);
  if (mm) return `map<${typeRef(pkg, mm[1])},${typeRef(pkg, mm[2])}>`;
  if (BASIC.has(t)) return t === 'float64' ? 'double' : t === 'int' ? 'int64' : t;
  const q = qualify(pkg, t);
  if (SPECIAL[q]) return SPECIAL[q];
  if (named.has(q)) { const p = q.slice(0, q.lastIndexOf('.')); return typeRef(p, named.get(q)!); }
  if (structs.has(q)) { const short = `${SHORT[q.slice(0, q.lastIndexOf('.'))]}.${q.slice(q.lastIndexOf('.') + 1)}`; if (!out[short] && !queue.includes(q)) queue.push(q); return 'msg:' + short; }
  if (!seenPkgs.has(q.slice(0, q.lastIndexOf('.')))) throw new Error(`type ${q} from an unlisted package`);
  throw new Error(`unknown type ${q}`);
}
while (queue.length) {
  const q = queue.shift()!;
  const pkg = q.slice(0, q.lastIndexOf('.'));
  const short = `${SHORT[pkg]}.${q.slice(q.lastIndexOf('.') + 1)}`;
  if (out[short]) continue;
  const fields = structs.get(q);
  if (!fields) throw new Error(`no struct ${q}`);
  const rows: Array<[number, string, string, string] | [number, string, string, string, string]> = [];
  out[short] = rows;
  for (const f of fields) {
    if (!f.proto) continue;
    const p = f.proto.split(',');
    const num = Number(p[1]);
    const [jname, ...opts] = f.json.split(',');
    let flags = '';
    if (f.type.startsWith('*')) flags += '*';
    if (!opts.includes('omitempty')) flags += '!';
    const inline = opts.includes('inline') || (f.embedded && !jname); // encoding/json inlines an unnamed embedded struct
    if (inline) flags += 'i';
    const row: [number, string, string, string] = [num, inline ? '' : jname || f.name, typeRef(pkg, f.type), flags];
    rows.push(f.patch ? [...row, f.patch] : row); // patch: "<strategy>[:<mergeKey>]"
  }
  rows.sort((a, b) => a[0] - b[0]);
}
process.stdout.write(JSON.stringify(out));
