// Shared types and the hook interface of the Kubernetes API stand-in.
// The hook interface (ApiHooks) is in hookTypes.ts: it names the Store, which is built on these types.
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
  /** served from a CustomResourceDefinition: no strategic merge patch, atomic lists (ATOMIC_LISTS) */
  custom?: boolean;
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

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: Record<string, unknown>;
  columnDefinitions: Array<{ name: string; type: string; format: string; description: string; priority: number }>;
  rows: Array<{ cells: unknown[]; object: unknown }>;
}

export interface TlsMaterial {
  cert: string;
  key: string;
  ca: string;
}

/** Where the stand-in reports what goes wrong inside it (a pino Logger fits). */
export interface StandinLog {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}
