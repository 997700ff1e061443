// A stand-in cluster with the full setup: admin token, SA tokens, RBAC, default ServiceAccounts, EndpointSlices.
import { randomBytes } from 'node:crypto';
import { securityHooks } from './auth/hooks.js';
import type { TokenSigner } from './auth/tokens.js';
import { endpointSliceController } from './controllers/endpointslices.js';
import { serviceAccountController } from './controllers/serviceaccounts.js';
import { startApiServer, type ApiServer, type ApiServerOptions } from './server.js';
import type { Controller } from './types.js';

export interface SecureServer extends ApiServer { signer: TokenSigner }

export async function startSecureApiServer(opts: ApiServerOptions & { extraControllers?: Controller[] }): Promise<SecureServer> {
  const adminToken = opts.adminToken ?? `admin-${opts.name}-${randomBytes(18).toString('base64url')}`;
  const sec = securityHooks({ cluster: opts.name, adminToken });
  const controllers = [...(sec.hooks.controllers ?? []), serviceAccountController(), endpointSliceController(), ...(opts.extraControllers ?? []), ...(opts.hooks?.controllers ?? [])];
  const server = await startApiServer({ ...opts, adminToken, hooks: { ...opts.hooks, ...sec.hooks, controllers } });
  return Object.assign(server, { signer: sec.signer });
}
