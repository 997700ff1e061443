// Token review: who is calling? A TokenReviewer interface, a cache, and the Kubernetes TokenReview implementation.
import * as k8s from '@kubernetes/client-node';
import { withDeadline } from '../kube/deadline.ts';

export interface Identity { namespace: string; serviceAccount: string }
export type ReviewResult = Identity | { reason: string };
export interface TokenReviewer { review(cluster: string, token: string): Promise<ReviewResult> }

export function isIdentity(r: ReviewResult): r is Identity {
  return (r as Identity).namespace !== undefined;
}

/** "system:serviceaccount:<ns>:<sa>" → identity */
export function identityFromUsername(u: string | undefined): ReviewResult {
  const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(u ?? '');
  return m ? { namespace: m[1], serviceAccount: m[2] } : { reason: `token user "${u ?? ''}" is not a ServiceAccount` };
}

/** Positive-only cache in front of another reviewer (bounded size, TTL). */
export class CachingReviewer implements TokenReviewer {
  private cache = new Map<string, { id: Identity; until: number }>();
  constructor(private inner: TokenReviewer, private ttlMs = 60_000, private maxEntries = 10_000, private now: () => number = Date.now) {}

  async review(cluster: string, token: string): Promise<ReviewResult> {
    const key = `${cluster}\u0000${token}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > this.now()) return hit.id;
    if (hit) this.cache.delete(key);
    const r = await this.inner.review(cluster, token);
    if (isIdentity(r)) {
      if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(key, { id: r, until: this.now() + this.ttlMs });
    }
    return r;
  }

  get size(): number { return this.cache.size; }
}

/** authentication.k8s.io/v1 TokenReview in the caller's cluster. */
export class KubeTokenReviewer implements TokenReviewer {
  constructor(private kubeconfigFor: (cluster: string) => k8s.KubeConfig | undefined, private audiences?: string[], private timeoutMs = 5_000) {}

  async review(cluster: string, token: string): Promise<ReviewResult> {
    const kc = this.kubeconfigFor(cluster);
    if (!kc) return { reason: `unknown cluster "${cluster}"` };
    const api = kc.makeApiClient(k8s.AuthenticationV1Api);
    let res: k8s.V1TokenReview;
    try {
      res = await withDeadline(
        api.createTokenReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(this.audiences ? { audiences: this.audiences } : {}) } } }),
        this.timeoutMs, () => new Error(`no answer within ${this.timeoutMs} ms`),
      );
    } catch (e) {
      return { reason: `TokenReview in cluster "${cluster}" failed: ${(e as Error).message}` };
    }
    if (!res.status?.authenticated) return { reason: `token rejected by cluster "${cluster}": ${res.status?.error ?? 'not authenticated'}` };
    return identityFromUsername(res.status.user?.username);
  }
}
