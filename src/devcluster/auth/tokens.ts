// ServiceAccount JWTs of one stand-in cluster: ES256 signing key, issue (TokenRequest) and verify (TokenReview).
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';

export interface SaClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  'kubernetes.io': { namespace: string; serviceaccount: { name: string; uid: string } };
}

export type VerifyResult = { ok: true; claims: SaClaims } | { ok: false; error: string };

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export class TokenSigner {
  readonly issuer: string;
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  readonly kid: string;

  constructor(cluster: string, privateKeyPem?: string) {
    this.issuer = `https://kubernetes.default.svc.${cluster}`;
    if (privateKeyPem) {
      this.privateKey = createPrivateKey(privateKeyPem);
      this.publicKey = createPublicKey(this.privateKey);
    } else {
      const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      this.privateKey = kp.privateKey;
      this.publicKey = kp.publicKey;
    }
    this.kid = b64url(this.publicKey.export({ type: 'spki', format: 'der' }).subarray(-16));
  }

  /** The default audience of tokens: the issuer, as kube-apiserver's --api-audiences default. */
  get defaultAudiences(): string[] { return [this.issuer]; }

  issue(a: { namespace: string; name: string; uid: string; audiences?: string[]; expirationSeconds?: number; now?: number }): { token: string; claims: SaClaims } {
    const now = Math.floor((a.now ?? Date.now()) / 1000);
    const claims: SaClaims = {
      iss: this.issuer,
      sub: `system:serviceaccount:${a.namespace}:${a.name}`,
      aud: a.audiences && a.audiences.length ? a.audiences : this.defaultAudiences,
      exp: now + (a.expirationSeconds ?? 3600),
      iat: now,
      nbf: now,
      jti: randomUUID(),
      'kubernetes.io': { namespace: a.namespace, serviceaccount: { name: a.name, uid: a.uid } },
    };
    const head = b64url(JSON.stringify({ alg: 'ES256', kid: this.kid, typ: 'JWT' }));
    const body = b64url(JSON.stringify(claims));
    const sig = sign('sha256', Buffer.from(`${head}.${body}`), { key: this.privateKey, dsaEncoding: 'ieee-p1363' });
    return { token: `${head}.${body}.${b64url(sig)}`, claims };
  }

  /** Signature, time window and (when given) audience checks; SA existence is the caller's business. */
  verify(token: string, audiences?: string[], nowMs = Date.now()): VerifyResult {
    const parts = token.split('.');
    if (parts.length !== 3) return { ok: false, error: 'token is not a JWT (expected three dot-separated parts)' };
    let head: { alg?: string };
    let claims: SaClaims;
    try {
      head = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
    } catch {
      return { ok: false, error: 'token header or payload is not valid base64url JSON' };
    }
    if (head.alg !== 'ES256') return { ok: false, error: `unsupported signing algorithm "${String(head.alg)}"` };
    const good = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key: this.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(parts[2], 'base64url'));
    if (!good) return { ok: false, error: 'invalid bearer token, square/go-jose: error in cryptographic primitive' };
    if (claims.iss !== this.issuer) return { ok: false, error: `token issuer "${claims.iss}" is not "${this.issuer}"` };
    const now = Math.floor(nowMs / 1000);
    if (typeof claims.exp !== 'number' || now >= claims.exp) return { ok: false, error: 'invalid bearer token, Token has expired.' };
    if (typeof claims.nbf === 'number' && now + 60 < claims.nbf) return { ok: false, error: 'invalid bearer token, Token is not valid yet.' };
    const ku = claims['kubernetes.io'];
    if (!ku || typeof ku.namespace !== 'string' || typeof ku.serviceaccount?.name !== 'string') return { ok: false, error: 'token has no kubernetes.io service account claims' };
    const want = audiences && audiences.length ? audiences : this.defaultAudiences;
    if (!want.some((a) => claims.aud.includes(a))) return { ok: false, error: 'invalid bearer token, token audiences ' + JSON.stringify(claims.aud) + ' is invalid for the target audiences ' + JSON.stringify(want) };
    return { ok: true, claims };
  }

  privateKeyPem(): string { return this.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(); }
}


export function saGroups(namespace: string): string[] {
  return ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'];
}
