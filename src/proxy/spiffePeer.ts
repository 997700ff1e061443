// Pure helpers for a verified peer certificate: its SPIFFE ID, and the XFCC header the inbound adds.
import { parseSpiffeId } from '../mesh/names.ts';

/** From node's `subjectaltname` string ("URI:spiffe://…, DNS:…"), the SPIFFE ID if it is in `trustDomain`. */
export function peerSpiffeId(subjectAltName: string | undefined, trustDomain: string): string | undefined {
  for (const part of (subjectAltName ?? '').split(/,\s*/)) {
    if (!part.startsWith('URI:')) continue;
    const uri = part.slice(4);
    const p = parseSpiffeId(uri);
    if (p && p.trustDomain === trustDomain) return uri;
  }
  return undefined;
}

/** `x-forwarded-client-cert` as Envoy/Istio write it: `By=<own id>;URI=<peer id>`. */
export function xfcc(ownId: string, peerId: string): string {
  return `By=${ownId};URI=${peerId}`;
}
