// /openapi/v2 for kubectl's client-side validation. kubectl 1.20 asks only for the protobuf form
// (gnostic openapi_v2.Document), so this encodes a small subset of that schema with protobufjs.
// Each kind gets a definition with x-kubernetes-group-version-kind and its real top-level fields: an unknown
// top-level (or metadata) field is rejected by kubectl like against a real server; nested fields are free-form.
import protobuf from 'protobufjs';
import type { ResourceInfo } from './types.ts';

export const OPENAPI_PROTO_MIME = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';

const PROTO = `syntax = "proto3";
package openapi.v2;
message Document { string swagger = 1; Info info = 2; Paths paths = 8; Definitions definitions = 9; }
message Info { string title = 1; string version = 2; }
message Paths { }
message Definitions { repeated NamedSchema additional_properties = 1; }
message NamedSchema { string name = 1; Schema value = 2; }
message Properties { repeated NamedSchema additional_properties = 1; }
message TypeItem { repeated string value = 1; }
message NamedAny { string name = 1; Any value = 2; }
message Any { string yaml = 2; }
message Schema {
  string _ref = 1; string description = 4; repeated string required = 19;
  TypeItem type = 22; Properties properties = 25; repeated NamedAny vendor_extension = 31;
}`;

const root = protobuf.parse(PROTO, { keepCase: true }).root;
const DocumentType = root.lookupType('openapi.v2.Document');

/** Top-level fields of the built-in kinds besides apiVersion/kind/metadata (as in the Kubernetes API). */
const FIELDS: Record<string, string[]> = {
  Namespace: ['spec', 'status'], Service: ['spec', 'status'], Pod: ['spec', 'status'], Node: ['spec', 'status'],
  ConfigMap: ['data', 'binaryData', 'immutable'], Secret: ['data', 'stringData', 'type', 'immutable'],
  ServiceAccount: ['secrets', 'imagePullSecrets', 'automountServiceAccountToken'], Endpoints: ['subsets'],
  EndpointSlice: ['addressType', 'endpoints', 'ports'], Lease: ['spec'],
  Role: ['rules'], ClusterRole: ['rules', 'aggregationRule'], RoleBinding: ['roleRef', 'subjects'], ClusterRoleBinding: ['roleRef', 'subjects'],
  CustomResourceDefinition: ['spec', 'status'], Deployment: ['spec', 'status'], ReplicaSet: ['spec', 'status'], StatefulSet: ['spec', 'status'], DaemonSet: ['spec', 'status'],
  Event: ['action', 'count', 'eventTime', 'firstTimestamp', 'involvedObject', 'lastTimestamp', 'message', 'reason', 'related', 'reportingComponent', 'reportingInstance', 'series', 'source', 'type', 'deprecatedCount', 'deprecatedFirstTimestamp', 'deprecatedLastTimestamp', 'deprecatedSource', 'note', 'regarding', 'reportingController'],
  TokenReview: ['spec', 'status'], SelfSubjectAccessReview: ['spec', 'status'], SubjectAccessReview: ['spec', 'status'],
};
const REQUIRED: Record<string, string[]> = { RoleBinding: ['roleRef'], ClusterRoleBinding: ['roleRef'], EndpointSlice: ['addressType', 'endpoints'] };
const META_FIELDS = ['name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp',
  'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'clusterName', 'managedFields'];

const free = (description: string) => ({ description });
const str = (description: string) => ({ description, type: { value: ['string'] } });
const props = (names: string[], make: (n: string) => object) => ({ additional_properties: names.map((name) => ({ name, value: make(name) })) });
const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/** Definitions (JSON-shaped) for the given resources; also the content of the protobuf document. */
export function openapiDefinitions(resources: ResourceInfo[]): Array<{ name: string; value: Record<string, unknown> }> {
  const defs: Array<{ name: string; value: Record<string, unknown> }> = [
    { name: OBJECT_META, value: { description: 'ObjectMeta', type: { value: ['object'] }, properties: props(META_FIELDS, (n) => free(n)) } },
  ];
  const seen = new Set<string>();
  for (const r of resources) {
    const key = `${r.group}/${r.version}/${r.kind}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const fields = FIELDS[r.kind];
    const gvk = `- group: ${JSON.stringify(r.group)}\n  kind: ${r.kind}\n  version: ${r.version}\n`;
    const value: Record<string, unknown> = { description: `${r.kind} (${r.group || 'core'}/${r.version})`, vendor_extension: [{ name: 'x-kubernetes-group-version-kind', value: { yaml: gvk } }] };
    if (fields) {
      value.type = { value: ['object'] };
      value.properties = props(['apiVersion', 'kind', 'metadata', ...fields], (n) => (n === 'apiVersion' || n === 'kind' ? str(n) : n === 'metadata' ? { _ref: `#/definitions/${OBJECT_META}` } : free(n)));
      if (REQUIRED[r.kind]) value.required = REQUIRED[r.kind];
    }
    defs.push({ name: `${r.group ? r.group.split('.').reverse().join('.') : 'io.k8s.api.core'}.${r.version}.${r.kind}`, value });
  }
  return defs;
}

export function openapiProtobuf(resources: ResourceInfo[]): Buffer {
  const doc = { swagger: '2.0', info: { title: 'Kubernetes (meshfed devcluster)', version: 'v1.32.0' }, paths: {}, definitions: { additional_properties: openapiDefinitions(resources) } };
  const err = DocumentType.verify(doc);
  if (err) throw new Error(`openapi document does not fit the protobuf schema: ${err}`);
  return Buffer.from(DocumentType.encode(DocumentType.fromObject(doc)).finish());
}

type ProtoSchema = { _ref?: string; description?: string; required?: string[]; type?: { value: string[] }; properties?: { additional_properties: Array<{ name: string; value: ProtoSchema }> }; vendor_extension?: Array<{ name: string; value: { yaml: string } }> };

/** One definition in swagger JSON form (what kube-apiserver serves to clients that ask for JSON). */
function schemaJson(p: ProtoSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (p._ref) out.$ref = p._ref;
  if (p.description) out.description = p.description;
  if (p.type?.value.length) out.type = p.type.value[0];
  if (p.required?.length) out.required = p.required;
  if (p.properties) out.properties = Object.fromEntries(p.properties.additional_properties.map((n) => [n.name, schemaJson(n.value)]));
  for (const v of p.vendor_extension ?? []) {
    if (v.name === 'x-kubernetes-group-version-kind') {
      const m = /group: (".*")\n\s+kind: (\S+)\n\s+version: (\S+)/.exec(v.value.yaml);
      if (m) out[v.name] = [{ group: JSON.parse(m[1]) as string, kind: m[2], version: m[3] }];
    }
  }
  return out;
}

/** The same document as openapiProtobuf, as swagger 2.0 JSON. */
export function openapiJson(resources: ResourceInfo[]): Record<string, unknown> {
  return {
    swagger: '2.0', info: { title: 'Kubernetes (meshfed devcluster)', version: 'v1.32.0' }, paths: {},
    definitions: Object.fromEntries(openapiDefinitions(resources).map((d) => [d.name, schemaJson(d.value as ProtoSchema)])),
  };
}
