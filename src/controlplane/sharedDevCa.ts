// Several replicas without a plugged-in CA (no cacerts Secret) must still sign with ONE development root, or a proxy
// that moves to another replica no longer trusts it. As istiod keeps its self-signed root in istio-ca-secret, the
// replicas keep theirs in Secret meshfed-system/meshfed-dev-ca: the first replica to create it wins (create is
// atomic; the others get 409 and read the winner's), and an expired or broken one is replaced under a
// resourceVersion precondition (one replacement wins). Still a development root: plug in cacerts for production.
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import { loadSigningCa, type SigningCa } from '../ca/files.ts';
import { apiStatus } from '../kube/apiError.ts';

export const DEV_CA_SECRET = 'meshfed-dev-ca';
const KEYS = { 'ca-cert.pem': 'caCertPem', 'ca-key.pem': 'caKeyPem', 'cert-chain.pem': 'certChainPem', 'root-cert.pem': 'rootCertPem' } as const;
/** a shared root this close to expiry is replaced at start */
const MIN_LEFT_MS = 24 * 3600_000;

export interface SecretApi {
  readNamespacedSecret(req: { name: string; namespace: string }): Promise<k8s.V1Secret>;
  createNamespacedSecret(req: { namespace: string; body: k8s.V1Secret }): Promise<k8s.V1Secret>;
  replaceNamespacedSecret(req: { name: string; namespace: string; body: k8s.V1Secret }): Promise<k8s.V1Secret>;
}

function secretOf(ca: SigningCa, namespace: string, resourceVersion?: string): k8s.V1Secret {
  const data: Record<string, string> = {};
  for (const [k, f] of Object.entries(KEYS)) data[k] = Buffer.from(ca.material[f]).toString('base64');
  return {
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
    metadata: { name: DEV_CA_SECRET, namespace, labels: { 'app.kubernetes.io/managed-by': 'meshfed' }, ...(resourceVersion ? { resourceVersion } : {}) },
    data,
  };
}

/** The signing CA held in the Secret, or why it cannot be used. */
async function fromSecret(s: k8s.V1Secret, namespace: string, trustDomain: string, now: number): Promise<SigningCa | string> {
  try {
    const ca = await loadSigningCa({ secrets: { readNamespacedSecret: async () => s }, namespace, trustDomain, now: now + MIN_LEFT_MS });
    return { ...ca, source: 'dev' };
  } catch (e) {
    return (e as Error).message;
  }
}

/** The development CA every replica shares: the Secret's, or `mine` once it is stored there. */
export async function sharedDevCa(o: { api: SecretApi; namespace: string; mine: SigningCa; trustDomain: string; log: Logger; now?: () => number }): Promise<SigningCa> {
  const now = o.now ?? Date.now;
  for (let attempt = 0; attempt < 5; attempt++) {
    let have: k8s.V1Secret | undefined;
    try {
      have = await o.api.readNamespacedSecret({ name: DEV_CA_SECRET, namespace: o.namespace });
    } catch (e) {
      if (apiStatus(e) !== 404) throw new Error(`reading Secret ${o.namespace}/${DEV_CA_SECRET} (the replicas' shared development CA): ${(e as Error).message}`);
    }
    try {
      if (!have) {
        await o.api.createNamespacedSecret({ namespace: o.namespace, body: secretOf(o.mine, o.namespace) });
        o.log.warn({ secret: `${o.namespace}/${DEV_CA_SECRET}` }, 'stored this replica\'s development CA for the other replicas (not for production: plug in Secret cacerts)');
        return o.mine;
      }
      const shared = await fromSecret(have, o.namespace, o.trustDomain, now());
      if (typeof shared !== 'string') return shared;
      o.log.warn({ secret: `${o.namespace}/${DEV_CA_SECRET}`, reason: shared }, 'the shared development CA cannot be used; replacing it');
      await o.api.replaceNamespacedSecret({ name: DEV_CA_SECRET, namespace: o.namespace, body: secretOf(o.mine, o.namespace, have.metadata?.resourceVersion) });
      return o.mine;
    } catch (e) {
      // another replica created or replaced it first: read theirs
      if (apiStatus(e) === 409) continue;
      throw new Error(`storing Secret ${o.namespace}/${DEV_CA_SECRET} (the replicas' shared development CA): ${(e as Error).message} (the control plane needs create and update on it, or plug in Secret cacerts)`);
    }
  }
  throw new Error(`Secret ${o.namespace}/${DEV_CA_SECRET} kept changing while the replicas agreed on a development CA`);
}
