// A stand-in cluster with the full setup: admin token, SA tokens, RBAC, default ServiceAccounts, EndpointSlices,
// Deployment status. With a data dir its identity (serving CA and certificate, admin token, SA signing key) survives restarts.
import { randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TokenSigner } from './auth/tokens.ts';
import { securityHooks } from './auth/hooks.ts';
import { endpointSliceController } from './controllers/endpointslices.ts';
import { serviceAccountController } from './controllers/serviceaccounts.ts';
import { deploymentController } from './controllers/deployments.ts';
import { startApiServer, type ApiServer, type ApiServerOptions } from './server.ts';
import type { Store } from './store.ts';
import { openapiJson, openapiProtobuf } from './openapi.ts';
import { builtinTable, printerColumns, toTable as renderTable } from './table.ts';
import type { KubeObject, ResourceInfo } from './types.ts';
import type { Controller } from './hookTypes.ts';

export interface SecureServer extends ApiServer { signer: TokenSigner }

export async function startSecureApiServer(opts: ApiServerOptions & { extraControllers?: Controller[] }): Promise<SecureServer> {
  const adminToken = opts.adminToken ?? persisted(opts.dataDir, `${opts.name}.admin-token`, () => `admin-${opts.name}-${randomBytes(18).toString('base64url')}`, (t) => /^\S+$/.test(t));
  const sec = securityHooks({ cluster: opts.name, adminToken, signer: signerFor(opts.name, opts.dataDir), ...(opts.log ? { log: opts.log } : {}) });
  const controllers = [...(sec.hooks.controllers ?? []), serviceAccountController(opts.log), endpointSliceController(opts.log), deploymentController(opts.log), ...(opts.extraControllers ?? []), ...(opts.hooks?.controllers ?? [])];
  let store: Store | undefined;
  const toTable = (info: ResourceInfo, objs: KubeObject[]) => {
    if (store && info.group && !info.group.endsWith('.k8s.io')) {
      try {
        const crd = store.get(store.info('apiextensions.k8s.io', 'customresourcedefinitions'), '', `${info.plural}.${info.group}`) as KubeObject & { spec?: { versions?: Array<{ name: string; additionalPrinterColumns?: Parameters<typeof printerColumns>[0] }> } };
        const cols = crd.spec?.versions?.find((v) => v.name === info.version)?.additionalPrinterColumns;
        if (cols?.length) return renderTable(printerColumns(cols), objs);
      } catch { /* not a CRD-backed resource */ }
    }
    return builtinTable(info, objs);
  };
  const server = await startApiServer({ ...opts, adminToken, hooks: { toTable, openapi: (format) => (format === 'json' ? openapiJson : openapiProtobuf)(store ? store.resources.all() : []), ...opts.hooks, ...sec.hooks, controllers } });
  store = server.store;
  return Object.assign(server, { signer: sec.signer });
}

/** With a data dir, a value kept in one file (mode 0600) across restarts; without, a new one each time. */
function persisted(dataDir: string | undefined, file: string, make: () => string, valid: (text: string) => boolean): string {
  if (!dataDir) return make();
  const path = join(dataDir, file);
  if (existsSync(path)) {
    const text = readFileSync(path, 'utf8').trim();
    if (valid(text)) return text;
    throw new Error(`${path} is not usable (remove it to start with a new one)`);
  }
  const v = make();
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(path, v + '\n', { mode: 0o600 });
  return v;
}


/** With a data dir, the ServiceAccount signing key survives restarts (tokens issued before stay valid). */
function signerFor(cluster: string, dataDir: string | undefined): TokenSigner {
  if (!dataDir) return new TokenSigner(cluster);
  const file = join(dataDir, `${cluster}.sa-signing-key.pem`);
  if (existsSync(file)) {
    try {
      return new TokenSigner(cluster, readFileSync(file, 'utf8'));
    } catch (e) {
      throw new Error(`cluster "${cluster}": cannot load the ServiceAccount signing key ${file}: ${(e as Error).message} (remove the file to start with a new key)`);
    }
  }
  const signer = new TokenSigner(cluster);
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, signer.privateKeyPem(), { mode: 0o600 });
  return signer;
}
