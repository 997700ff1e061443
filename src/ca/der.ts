// Minimal DER (ASN.1) encoder and reader: just what X.509 certificates and PKCS#10 CSRs need.

export function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  while (n > 0) { bytes.unshift(n & 0xff); n = Math.floor(n / 256); }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), len(content.length), content]);
}

export const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
export const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
export const octets = (b: Buffer): Buffer => tlv(0x04, b);
export const bool = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0]));
export const nul = (): Buffer => Buffer.from([0x05, 0x00]);
export const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
/** context-specific constructed [n] */
export const ctx = (n: number, content: Buffer): Buffer => tlv(0xa0 | n, content);

/** BIT STRING with the given number of unused trailing bits. */
export function bits(b: Buffer, unused = 0): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([unused]), b]));
}

/** INTEGER from an unsigned big-endian byte string or a small number. */
export function int(v: Buffer | number): Buffer {
  let b = typeof v === 'number' ? Buffer.from(v.toString(16).padStart(2, '0').replace(/^(.(..)*)$/, '0$1'), 'hex') : v;
  let i = 0;
  while (i < b.length - 1 && b[i] === 0 && (b[i + 1] & 0x80) === 0) i++;
  b = b.subarray(i);
  if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

const oidCache = new Map<string, Buffer>();
export function oid(dotted: string): Buffer {
  let b = oidCache.get(dotted);
  if (!b) { b = oidUncached(dotted); oidCache.set(dotted, b); }
  return b;
}

function oidUncached(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [parts[0] * 40 + parts[1]];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    let v = Math.floor(p / 128);
    while (v > 0) { chunk.unshift((v & 0x7f) | 0x80); v = Math.floor(v / 128); }
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime before 2050, GeneralizedTime after (RFC 5280 4.1.2.5). */
export function time(d: Date): Buffer {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const s = iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16) + iso.slice(17, 19) + 'Z';
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(s.slice(2))) : tlv(0x18, Buffer.from(s));
}

// ---- reader ----

export interface Node {
  tag: number;
  /** the whole TLV */
  raw: Buffer;
  /** the content octets */
  value: Buffer;
}

export class DerError extends Error {}

export function read(buf: Buffer, offset = 0): Node & { end: number } {
  if (offset + 2 > buf.length) throw new DerError('truncated DER');
  const tag = buf[offset];
  let l = buf[offset + 1];
  let hdr = 2;
  if (l & 0x80) {
    const n = l & 0x7f;
    if (n === 0 || n > 4 || offset + 2 + n > buf.length) throw new DerError('bad DER length');
    l = 0;
    for (let i = 0; i < n; i++) l = l * 256 + buf[offset + 2 + i];
    hdr += n;
  }
  const end = offset + hdr + l;
  if (end > buf.length) throw new DerError('truncated DER');
  return { tag, raw: buf.subarray(offset, end), value: buf.subarray(offset + hdr, end), end };
}

export function children(n: Node): Node[] {
  const out: Node[] = [];
  let off = 0;
  while (off < n.value.length) {
    const c = read(n.value, off);
    out.push(c);
    off = c.end;
  }
  return out;
}

export function expect(n: Node | undefined, tag: number, what: string): Node {
  if (!n || n.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, got ${n ? '0x' + n.tag.toString(16) : 'nothing'}`);
  return n;
}

export function decodeOid(n: Node): string {
  const b = n.value;
  const parts = [Math.floor(b[0] / 40), b[0] % 40];
  let v = 0;
  for (let i = 1; i < b.length; i++) {
    v = v * 128 + (b[i] & 0x7f);
    if ((b[i] & 0x80) === 0) { parts.push(v); v = 0; }
  }
  return parts.join('.');
}

const pemRe = new Map<string, RegExp>();
export function pemToDer(pem: string, label: string): Buffer {
  let re = pemRe.get(label);
  if (!re) { re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`); pemRe.set(label, re); }
  const m = re.exec(pem);
  if (!m) throw new DerError(`no PEM block "${label}" found`);
  return Buffer.from(m[1], 'base64'); // node's base64 decoder skips whitespace
}

export function derToPem(der: Buffer, label: string): string {
  const b64 = der.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
