// /openapi/v2: kubectl's client-side validation, `kubectl explain`, and the patch metadata kubectl apply uses to
// compute strategic merge patches. kubectl 1.20 asks only for the protobuf form (gnostic openapi_v2.Document),
// other clients for JSON; both come from one swagger document.
// Built-in kinds get their full schema from the protobuf message table (proto/messages.ts): every field with its
// type, nested objects by $ref, and x-kubernetes-patch-strategy / -merge-key, so unknown fields are rejected at any
// depth as by a real server and `kubectl explain deployment.spec.template` works. Other kinds (CRDs) get their
// top-level fields; nested fields are free-form there.
import protobuf from 'protobufjs';
import { MESSAGES } from './proto/messages.ts';
import type { ResourceInfo } from './types.ts';

export const OPENAPI_PROTO_MIME = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';

// The subset of gnostic's OpenAPIv2.proto the document uses (field numbers as there).
const PROTO = `syntax = "proto3";
package openapi.v2;
message Document { string swagger = 1; Info info = 2; Paths paths = 8; Definitions definitions = 9; }
message Info { string title = 1; string version = 2; }
message Paths { repeated NamedPathItem path = 2; }
message NamedPathItem { string name = 1; PathItem value = 2; }
message PathItem { Operation patch = 8; }
message Operation { string operation_id = 5; repeated ParametersItem parameters = 8; repeated NamedAny vendor_extension = 13; }
message ParametersItem { oneof oneof { Parameter parameter = 1; } }
message Parameter { oneof oneof { NonBodyParameter non_body_parameter = 2; } }
message NonBodyParameter { oneof oneof { QueryParameterSubSchema query_parameter_sub_schema = 3; } }
message QueryParameterSubSchema { string in = 2; string description = 3; string name = 4; string type = 6; }
message Definitions { repeated NamedSchema additional_properties = 1; }
message NamedSchema { string name = 1; Schema value = 2; }
message Properties { repeated NamedSchema additional_properties = 1; }
message TypeItem { repeated string value = 1; }
message ItemsItem { repeated Schema schema = 1; }
message AdditionalPropertiesItem { oneof oneof { Schema schema = 1; bool boolean = 2; } }
message NamedAny { string name = 1; Any value = 2; }
message Any { string yaml = 2; }
message Schema {
  string _ref = 1; string format = 2; string description = 4; repeated string required = 19;
  AdditionalPropertiesItem additional_properties = 21; TypeItem type = 22; ItemsItem items = 23;
  Properties properties = 25; repeated NamedAny vendor_extension = 31;
}`;

const root = protobuf.parse(PROTO, { keepCase: true }).root;
const DocumentType = root.lookupType('openapi.v2.Document');

/** A swagger 2.0 schema, as far as the document uses it. */
export interface Schema {
  $ref?: string;
  description?: string;
  type?: string;
  format?: string;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema;
  'x-kubernetes-group-version-kind'?: Array<{ group: string; kind: string; version: string }>;
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-patch-merge-key'?: string;
}

/** Top-level fields of kinds without a message in the table (besides apiVersion/kind/metadata). */
const FIELDS: Record<string, string[]> = {
  CustomResourceDefinition: ['spec', 'status'], ReplicaSet: ['spec', 'status'], StatefulSet: ['spec', 'status'], DaemonSet: ['spec', 'status'],
};
const REQUIRED: Record<string, string[]> = { RoleBinding: ['roleRef'], ClusterRoleBinding: ['roleRef'], EndpointSlice: ['addressType', 'endpoints'] };
const META_FIELDS = ['name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp',
  'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'clusterName', 'managedFields'];

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
/** Package of the message table → OpenAPI definition prefix. */
const PKG_PREFIX: Record<string, string> = {
  core: 'io.k8s.api.core.v1', apps: 'io.k8s.api.apps.v1', rbac: 'io.k8s.api.rbac.v1', authn: 'io.k8s.api.authentication.v1',
  authz: 'io.k8s.api.authorization.v1', policy: 'io.k8s.api.policy.v1', discovery: 'io.k8s.api.discovery.v1', events: 'io.k8s.api.events.v1',
  coordination: 'io.k8s.api.coordination.v1', autoscaling: 'io.k8s.api.autoscaling.v1', meta: META,
};
const GROUP_PKG: Record<string, string> = {
  '': 'core', apps: 'apps', 'rbac.authorization.k8s.io': 'rbac', 'authentication.k8s.io': 'authn', 'authorization.k8s.io': 'authz',
  policy: 'policy', 'discovery.k8s.io': 'discovery', 'events.k8s.io': 'events', 'coordination.k8s.io': 'coordination', autoscaling: 'autoscaling',
};
/** Types with a JSON form of their own; Quantity/IntOrString/RawExtension stay free-form (a number or a string is fine). */
const SPECIAL: Record<string, [string, Schema]> = {
  Time: [`${META}.Time`, { type: 'string', format: 'date-time' }],
  MicroTime: [`${META}.MicroTime`, { type: 'string', format: 'date-time' }],
  Duration: [`${META}.Duration`, { type: 'string' }],
  FieldsV1: [`${META}.FieldsV1`, { type: 'object' }],
  Quantity: ['io.k8s.apimachinery.pkg.api.resource.Quantity', { description: 'a quantity: a number or a string such as 500m or 1Gi' }],
  IntOrString: ['io.k8s.apimachinery.pkg.util.intstr.IntOrString', { format: 'int-or-string', description: 'an integer or a string' }],
  RawExtension: ['io.k8s.apimachinery.pkg.runtime.RawExtension', { description: 'an embedded object' }],
};

const defName = (msg: string): string => {
  const [pkg, name] = msg.split('.');
  return `${PKG_PREFIX[pkg]}.${name}`;
};
const ref = (name: string): Schema => ({ $ref: `#/definitions/${name}` });

function fieldSchema(t: string): Schema {
  if (t.startsWith('[]')) return { type: 'array', items: fieldSchema(t.slice(2)) };
  const m = /^map<\w+,(.+)>$/.exec(t);
  if (m) return { type: 'object', additionalProperties: fieldSchema(m[1]) };
  if (t.startsWith('msg:')) return ref(defName(t.slice(4)));
  if (SPECIAL[t]) return ref(SPECIAL[t][0]);
  switch (t) {
    case 'string': return { type: 'string' };
    case 'int32': return { type: 'integer', format: 'int32' };
    case 'int64': return { type: 'integer', format: 'int64' };
    case 'bool': return { type: 'boolean' };
    case 'double': return { type: 'number', format: 'double' };
    case 'bytes': return { type: 'string', format: 'byte' };
    default: return {};
  }
}

/** The properties of a message, inlined members merged in. */
function messageProperties(msg: string): Record<string, Schema> {
  const props: Record<string, Schema> = {};
  for (const [, json, t, flags, patch] of MESSAGES[msg] ?? []) {
    if (flags.includes('i') && t.startsWith('msg:')) { Object.assign(props, messageProperties(t.slice(4))); continue; }
    const s = fieldSchema(t);
    if (patch) {
      const [strategy, key] = patch.split(':');
      if (strategy) s['x-kubernetes-patch-strategy'] = strategy;
      if (key) s['x-kubernetes-patch-merge-key'] = key;
    }
    props[json] = s;
  }
  return props;
}

/** All definitions (swagger JSON form) for the given resources. */
export function openapiDefinitions(resources: ResourceInfo[]): Record<string, Schema> {
  const defs: Record<string, Schema> = {};
  for (const [name, s] of Object.values(SPECIAL)) defs[name] = s;
  for (const msg of Object.keys(MESSAGES)) defs[defName(msg)] = { type: 'object', properties: messageProperties(msg) };
  for (const r of resources) {
    const gvk = [{ group: r.group, kind: r.kind, version: r.version }];
    const pkg = GROUP_PKG[r.group];
    const msg = pkg && r.version === 'v1' ? `${pkg}.${r.kind}` : undefined;
    if (msg && MESSAGES[msg]) {
      const d = defs[defName(msg)];
      d.description = `${r.kind} (${r.group || 'core'}/${r.version})`;
      d.properties = { apiVersion: { type: 'string', description: 'APIVersion of this object' }, kind: { type: 'string', description: 'Kind of this object' }, ...d.properties };
      d['x-kubernetes-group-version-kind'] = gvk;
      if (REQUIRED[r.kind]) d.required = REQUIRED[r.kind];
      continue;
    }
    const name = `${r.group ? r.group.split('.').reverse().join('.') : 'io.k8s.api.core'}.${r.version}.${r.kind}`;
    if (defs[name]) continue;
    const fields = FIELDS[r.kind];
    const d: Schema = { description: `${r.kind} (${r.group || 'core'}/${r.version})`, 'x-kubernetes-group-version-kind': gvk };
    if (!fields && r.group && !r.group.endsWith('.k8s.io')) { defs[name] = d; continue; } // a custom resource: free-form
    d.type = 'object';
    d.properties = { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: ref(`${META}.ObjectMeta`), ...Object.fromEntries((fields ?? []).map((f) => [f, { description: f }])) };
    if (REQUIRED[r.kind]) d.required = REQUIRED[r.kind];
    defs[name] = d;
  }
  if (!defs[`${META}.ObjectMeta`]) defs[`${META}.ObjectMeta`] = { type: 'object', properties: Object.fromEntries(META_FIELDS.map((f) => [f, { description: f }])) };
  return defs;
}

const yamlScalar = (v: string) => JSON.stringify(v);

/** One schema in the protobuf (gnostic) shape. */
function toProto(s: Schema): Record<string, unknown> {
  const p: Record<string, unknown> = {};
  if (s.$ref) p._ref = s.$ref;
  if (s.format) p.format = s.format;
  if (s.description) p.description = s.description;
  if (s.required?.length) p.required = s.required;
  if (s.type) p.type = { value: [s.type] };
  if (s.items) p.items = { schema: [toProto(s.items)] };
  if (s.additionalProperties) p.additional_properties = { schema: toProto(s.additionalProperties) };
  if (s.properties) p.properties = { additional_properties: Object.entries(s.properties).map(([name, v]) => ({ name, value: toProto(v) })) };
  const ext: Array<{ name: string; value: { yaml: string } }> = [];
  const gvk = s['x-kubernetes-group-version-kind'];
  if (gvk) ext.push({ name: 'x-kubernetes-group-version-kind', value: { yaml: gvk.map((g) => `- group: ${yamlScalar(g.group)}\n  kind: ${g.kind}\n  version: ${g.version}\n`).join('') } });
  if (s['x-kubernetes-patch-merge-key']) ext.push({ name: 'x-kubernetes-patch-merge-key', value: { yaml: `${s['x-kubernetes-patch-merge-key']}\n` } });
  if (s['x-kubernetes-patch-strategy']) ext.push({ name: 'x-kubernetes-patch-strategy', value: { yaml: `${s['x-kubernetes-patch-strategy']}\n` } });
  if (ext.length) p.vendor_extension = ext;
  return p;
}

const INFO = { title: 'Kubernetes (meshfed devcluster)', version: 'v1.32.0' };

/** The PATCH operation of each patchable resource, with the query parameters the stand-in honours: kubectl 1.20
 *  looks there for "dryRun" before `kubectl diff` / `apply --dry-run=server`. */
function patchPaths(resources: ResourceInfo[]): Array<{ path: string; gvk: { group: string; kind: string; version: string }; id: string }> {
  return resources.filter((r) => r.verbs.includes('patch')).map((r) => ({
    path: `${r.group ? `/apis/${r.group}/${r.version}` : '/api/v1'}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.plural}/{name}`,
    gvk: { group: r.group, kind: r.kind, version: r.version },
    id: `patch${r.kind}`,
  }));
}
const QUERY_PARAMS = [
  { name: 'dryRun', description: 'When present, indicates that modifications should not be persisted. Valid value: All' },
  { name: 'fieldManager', description: 'the name of the actor or entity making the change' },
  { name: 'force', description: 'Force is going to "force" Apply requests.' },
];

/** The swagger 2.0 JSON document (what kube-apiserver serves to clients that ask for JSON). */
export function openapiJson(resources: ResourceInfo[]): Record<string, unknown> {
  const paths = Object.fromEntries(patchPaths(resources).map((p) => [p.path, { patch: {
    operationId: p.id, 'x-kubernetes-action': 'patch', 'x-kubernetes-group-version-kind': p.gvk,
    parameters: QUERY_PARAMS.map((q) => ({ in: 'query', type: 'string', ...q })),
  } }]));
  return { swagger: '2.0', info: INFO, paths, definitions: openapiDefinitions(resources) };
}

/** Encoding the document takes ~0.2 s: keep the last one per resource table (it changes only with CRDs). */
const cache = new Map<string, Buffer>();
const keyOf = (resources: ResourceInfo[]) => resources.map((r) => `${r.group}/${r.version}/${r.kind}`).join(',');

export function openapiProtobuf(resources: ResourceInfo[]): Buffer {
  const key = keyOf(resources);
  const hit = cache.get(key);
  if (hit) return hit;
  const out = encodeDocument(resources);
  if (cache.size > 16) cache.clear();
  cache.set(key, out);
  return out;
}

function encodeDocument(resources: ResourceInfo[]): Buffer {
  const defs = openapiDefinitions(resources);
  const paths = { path: patchPaths(resources).map((p) => ({ name: p.path, value: { patch: {
    operation_id: p.id,
    parameters: QUERY_PARAMS.map((q) => ({ parameter: { non_body_parameter: { query_parameter_sub_schema: { in: 'query', type: 'string', ...q } } } })),
    vendor_extension: [
      { name: 'x-kubernetes-action', value: { yaml: 'patch\n' } },
      { name: 'x-kubernetes-group-version-kind', value: { yaml: `group: ${yamlScalar(p.gvk.group)}\nkind: ${p.gvk.kind}\nversion: ${p.gvk.version}\n` } },
    ],
  } } })) };
  const doc = { swagger: '2.0', info: INFO, paths, definitions: { additional_properties: Object.entries(defs).map(([name, s]) => ({ name, value: toProto(s) })) } };
  const err = DocumentType.verify(doc);
  if (err) throw new Error(`openapi document does not fit the protobuf schema: ${err}`);
  return Buffer.from(DocumentType.encode(DocumentType.fromObject(doc)).finish());
}
