// Pure-ish: request correlation headers. x-request-id is kept or created; a W3C traceparent is kept when valid,
// else a new one is started (version 00, random trace and span ids, sampled flag 01).
import { randomBytes, randomUUID } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

export function validTraceparent(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  const m = TRACEPARENT.exec(v);
  return !!m && !/^0+$/.test(m[1]!) && !/^0+$/.test(m[2]!);
}

export function newTraceparent(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
}

/** Fill in x-request-id and traceparent when missing (an invalid traceparent is replaced; tracestate then dropped). */
export function ensureTraceHeaders(h: OutgoingHttpHeaders): void {
  if (!h['x-request-id']) h['x-request-id'] = randomUUID();
  if (!validTraceparent(h.traceparent)) {
    h.traceparent = newTraceparent();
    delete h.tracestate;
  }
}
