// The hook interface of the Kubernetes API stand-in: authn/authz, tokens, tables, OpenAPI and controllers plug
// into the server core through ApiHooks. Apart from types.ts because these name the Store, which types.ts must not.
import type { IncomingMessage } from 'node:http';
import type { Store } from './store.ts';
import type { AuthnResult, AuthzResult, KubeObject, RequestAttributes, ResourceInfo, Table, UserInfo } from './types.ts';

export interface HookContext {
  cluster: string;
  store: Store;
  user: UserInfo;
}

/** Handler for `POST|GET …/<resource>/<name>/<subresource>` (e.g. serviceaccounts/<n>/token). */
export type SubresourceHandler = (
  ctx: HookContext,
  req: { method: string; namespace: string; name: string; body: unknown },
) => Promise<KubeObject> | KubeObject;

/** Handler for create-only virtual resources (tokenreviews, selfsubjectaccessreviews, subjectaccessreviews). */
export type VirtualCreate = (ctx: HookContext, body: KubeObject, namespace: string) => Promise<KubeObject> | KubeObject;

export interface Controller {
  start(store: Store): void | Promise<void>;
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
