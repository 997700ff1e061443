// Pure TLS ClientHello inspection: find the SNI without terminating TLS.
// Handles a hello split across TCP reads (caller re-calls with more bytes) and across TLS records.

export const MAX_HELLO_BYTES = 16 * 1024;

export type HelloResult =
  | { kind: 'need-more' }
  | { kind: 'not-tls'; reason: string }
  | { kind: 'no-sni' }
  | { kind: 'sni'; serverName: string };

const HANDSHAKE = 0x16;
const CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;
/** another record type came before the hello was whole (one result, not one per call) */
const CUT: HelloResult = { kind: 'not-tls', reason: 'a non-handshake record came before the ClientHello was whole' };

/**
 * Concatenate the payloads of leading handshake records. `complete`: a record of another type follows them (TLS 1.3
 * early data, or a client that sent its first bytes with the hello), so no more handshake bytes will come.
 */
function handshakeBytes(buf: Buffer, maxBytes: number): { data: Buffer; complete: boolean } | { error: string } {
  const parts: Buffer[] = [];
  let off = 0;
  let total = 0;
  while (off < buf.length) {
    if (buf[off] !== HANDSHAKE) return off === 0 ? { error: `record type ${buf[off]} is not handshake` } : { data: joined(parts, total), complete: true };
    if (off + 5 > buf.length) break; // this record's header is not whole yet
    if (buf[off + 1] !== 0x03) return { error: `record version major ${buf[off + 1]} is not 3` };
    const len = buf.readUInt16BE(off + 3);
    if (len === 0 || len > 16384 + 2048) return { error: `bad record length ${len}` };
    const end = off + 5 + len;
    const body = buf.subarray(off + 5, Math.min(end, buf.length));
    parts.push(body);
    total += body.length;
    if (total > maxBytes) return { error: `ClientHello exceeds ${maxBytes} bytes` };
    if (end > buf.length) return { data: joined(parts, total), complete: false };
    off = end;
  }
  return { data: joined(parts, total), complete: false };
}

/** The record payloads as one buffer; the usual hello fits one record and is returned as is, without a copy. */
const joined = (parts: Buffer[], total: number): Buffer => (parts.length === 1 ? parts[0]! : Buffer.concat(parts, total));

/**
 * Inspect the first bytes a client sent. Call again with the accumulated bytes on 'need-more'.
 * The caller must impose its own byte cap and timeout; bytes beyond maxBytes are reported as not-tls.
 */
export function parseClientHello(buf: Buffer, maxBytes = MAX_HELLO_BYTES): HelloResult {
  if (buf.length === 0) return { kind: 'need-more' };
  if (buf[0] !== HANDSHAKE) return { kind: 'not-tls', reason: `first byte 0x${buf[0]!.toString(16)} is not a TLS handshake record` };
  if (buf.length >= 2 && buf[1] !== 0x03) return { kind: 'not-tls', reason: 'record version major is not 3' };
  const hs = handshakeBytes(buf, maxBytes);
  if ('error' in hs) return { kind: 'not-tls', reason: hs.error };
  const d = hs.data;
  if (d.length < 4) return hs.complete ? CUT : tooShort(buf, maxBytes);
  if (d[0] !== CLIENT_HELLO) return { kind: 'not-tls', reason: `handshake type ${d[0]} is not ClientHello` };
  const helloLen = d.readUIntBE(1, 3);
  if (helloLen > maxBytes) return { kind: 'not-tls', reason: `ClientHello length ${helloLen} exceeds ${maxBytes}` };
  if (d.length < 4 + helloLen) return hs.complete ? CUT : tooShort(buf, maxBytes);
  return parseHelloBody(d.subarray(4, 4 + helloLen));
}

function tooShort(buf: Buffer, maxBytes: number): HelloResult {
  return buf.length > maxBytes + 5 * 8 ? { kind: 'not-tls', reason: `ClientHello exceeds ${maxBytes} bytes` } : { kind: 'need-more' };
}

const bad = (reason: string): HelloResult => ({ kind: 'not-tls', reason: `malformed ClientHello: ${reason}` });

function parseHelloBody(b: Buffer): HelloResult {
  let o = 2 + 32; // client_version + random
  if (o + 1 > b.length) return bad('truncated before session id');
  o += 1 + b[o]!;
  if (o + 2 > b.length) return bad('truncated before cipher suites');
  o += 2 + b.readUInt16BE(o);
  if (o + 1 > b.length) return bad('truncated before compression methods');
  o += 1 + b[o]!;
  if (o === b.length) return { kind: 'no-sni' }; // no extensions at all
  if (o + 2 > b.length) return bad('truncated extensions length');
  const extEnd = o + 2 + b.readUInt16BE(o);
  if (extEnd > b.length) return bad('extensions overrun hello');
  o += 2;
  while (o + 4 <= extEnd) {
    const type = b.readUInt16BE(o);
    const len = b.readUInt16BE(o + 2);
    o += 4;
    if (o + len > extEnd) return bad('extension overruns extensions block');
    if (type === EXT_SERVER_NAME) return parseServerName(b.subarray(o, o + len));
    o += len;
  }
  return { kind: 'no-sni' };
}

function parseServerName(e: Buffer): HelloResult {
  if (e.length < 2) return { kind: 'not-tls', reason: 'malformed server_name extension' };
  const listEnd = Math.min(2 + e.readUInt16BE(0), e.length);
  let o = 2;
  while (o + 3 <= listEnd) {
    const type = e[o]!;
    const len = e.readUInt16BE(o + 1);
    o += 3;
    if (o + len > listEnd) return { kind: 'not-tls', reason: 'server_name overruns extension' };
    if (type === 0) {
      const name = e.subarray(o, o + len).toString('latin1');
      if (!/^[\x21-\x7e]+$/.test(name)) return { kind: 'not-tls', reason: 'server_name has non-printable bytes' };
      return { kind: 'sni', serverName: name.toLowerCase() };
    }
    o += len;
  }
  return { kind: 'no-sni' };
}
