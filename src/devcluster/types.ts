// Shared types and the hook interface of the Kubernetes API stand-in.
// devA owns the server core; devB plugs authn/authz/tokens/tables/openapi/controllers in via ApiHooks.
import type { IncomingMessage } from 'node:http';

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  managedFields?: ManagedFieldsEntry[];
  [k: string]: unknown;
}

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [k: string]: unknown;
}

export interface ResourceInfo {
  group: string; // '' for core
  version: string;
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames: string[];
  categories: string[];
  /** create-only virtual resource (tokenreviews, SSAR…) handled by hooks.virtualCreate */
  virtual?: boolean;
  subresources?: string[];
}

export interface UserInfo {
  username: string;
  uid: string;
  groups: string[];
}

export interface RequestAttributes {
  verb: string; // get list watch create update patch delete deletecollection
  apiGroup: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  path: string;
  isResourceRequest: boolean;
}

export type AuthnResult = { user: UserInfo } | { error: 'unauthorized'; message?: string };
export interface AuthzResult {
  allowed: boolean;
  reason?: string;
}

export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Failure' | 'Success';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: StatusCause[] };
  code: number;
}

export interface HookContext {
  cluster: string;
  store: import('./store.ts').Store;
  user: UserInfo;
}

/** Handler for `POST|GET …/<resource>/<name>/<subresource>` (e.g. serviceaccounts/<n>/token). */
export type SubresourceHandler = (
  ctx: HookContext,
  req: { method: string; namespace: string; name: string; body: unknown },
) => Promise<KubeObject> | KubeObject;

/** Handler for create-only virtual resources (tokenreviews, selfsubjectaccessreviews, subjectaccessreviews). */
export type VirtualCreate = (ctx: HookContext, body: KubeObject, namespace: string) => Promise<KubeObject> | KubeObject;

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: Record<string, unknown>;
  columnDefinitions: Array<{ name: string; type: string; format: string; description: string; priority: number }>;
  rows: Array<{ cells: unknown[]; object: unknown }>;
}

export interface Controller {
  start(store: import('./store.ts').Store): void | Promise<void>;
  stop(): void | Promise<void>;
}

export interface ApiHooks {
  authenticate(req: IncomingMessage): AuthnResult | Promise<AuthnResult>;
  authorize(user: UserInfo, attrs: RequestAttributes): AuthzResult | Promise<AuthzResult>;
  /** keyed by `<plural>/<subresource>`, e.g. `serviceaccounts/token` */
  subresourceHandlers: Record<string, SubresourceHandler>;
  /** keyed by `<group>/<plural>`, e.g. `authentication.k8s.io/tokenreviews` */
  virtualCreate: Record<string, VirtualCreate>;
  toTable?(info: ResourceInfo, objects: KubeObject[]): Table;
  /** /openapi/v2: a Buffer is the protobuf form, served to clients that accept protobuf; `json` asks for the JSON form */
  openapi?(format?: 'json' | 'protobuf'): object;
  controllers: Controller[];
}

export interface TlsMaterial {
  cert: string;
  key: string;
  ca: string;
}
