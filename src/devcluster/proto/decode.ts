// Protobuf request bodies (Content-Type application/vnd.kubernetes.protobuf, what kubectl ≥ 1.2x's typed clients send):
// the "k8s\0" magic, a runtime.Unknown envelope (typeMeta, raw, contentEncoding, contentType), and in raw the object's
// message. Decoded with protobufjs against the message table of ./messages.ts and turned into the JSON the Go
// apiserver would produce: zero scalars omitted, pointer fields kept when sent, non-pointer structs always written,
// IntOrString / Time / MicroTime / Duration / Quantity in their JSON forms, bytes as base64.
// A field the table does not know is never dropped: decoding stops with an error naming where it was.
import protobuf from 'protobufjs';
import { MESSAGES } from './messages.ts';

export const PROTOBUF_MIME = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"

/** Why a protobuf body was refused: 'malformed' (400: not a protobuf message at all) or 'unsupported' (415). */
export class ProtobufBodyError extends Error {
  constructor(readonly kind: 'malformed' | 'unsupported', message: string) { super(message); }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface FieldInfo { json: string; flags: string; special?: string }

// Messages with a hand-written JSON form, and the envelope.
const SPECIAL_PROTO = `syntax = "proto2";
package k8s;
message Time { optional int64 seconds = 1; optional int32 nanos = 2; }
message MicroTime { optional int64 seconds = 1; optional int32 nanos = 2; }
message Duration { optional int64 duration = 1; }
message Quantity { optional string string = 1; }
message IntOrString { optional int64 type = 1; optional int32 intVal = 2; optional string strVal = 3; }
message RawExtension { optional bytes raw = 1; }
message FieldsV1 { optional bytes Raw = 1; }
message ExtraValue { repeated string items = 1; }
message TypeMeta { optional string apiVersion = 1; optional string kind = 2; }
message Unknown { optional TypeMeta typeMeta = 1; optional bytes raw = 2; optional string contentEncoding = 3; optional string contentType = 4; }
`;
const SPECIALS = new Set(['Time', 'MicroTime', 'Duration', 'Quantity', 'IntOrString', 'RawExtension', 'FieldsV1']);

/** The protobufjs root holding every message of the table (exported so tests can encode bodies with it). */
export const protoRoot: protobuf.Root = buildRoot();

function buildRoot(): protobuf.Root {
  const root = protobuf.parse(SPECIAL_PROTO, { keepCase: true }).root;
  const typeName = (t: string): string => {
    if (t.startsWith('msg:')) return '.' + t.slice(4);
    if (SPECIALS.has(t)) return '.k8s.' + t;
    if (t === '[]string') return '.k8s.ExtraValue'; // map values that are string lists travel in a wrapper
    return t;
  };
  for (const [name, rows] of Object.entries(MESSAGES)) {
    const [pkg, msg] = name.split('.');
    const ns = (root.lookup(pkg) as protobuf.Namespace | null) ?? root.define(pkg);
    const type = new protobuf.Type(msg);
    for (const [id, json, t, flags] of rows) {
      const fname = json || `inline${id}`;
      const special = SPECIALS.has(t.replace(/^\[\]/, '')) ? t.replace(/^\[\]/, '') : undefined;
      const options: Record<string, unknown> = { json, flags, ...(special ? { special } : {}) };
      const m = /^map<(\w+),(.+)>$/.exec(t);
      let f: protobuf.FieldBase;
      if (m) f = new protobuf.MapField(fname, id, m[1], typeName(m[2]), options);
      else if (t.startsWith('[]')) f = new protobuf.Field(fname, id, typeName(t.slice(2)), 'repeated', undefined, options);
      else f = new protobuf.Field(fname, id, typeName(t), 'optional', undefined, options);
      type.add(f);
    }
    ns.add(type);
  }
  root.resolveAll();
  return root;
}

const info = (f: protobuf.Field): FieldInfo => (f.options ?? { json: f.name, flags: '' }) as unknown as FieldInfo;

/** Which message carries a kind of an apiVersion (only the versions the stand-in serves). */
const GROUP_PKG: Record<string, string> = {
  v1: 'core', 'apps/v1': 'apps', 'rbac.authorization.k8s.io/v1': 'rbac', 'authentication.k8s.io/v1': 'authn',
  'authorization.k8s.io/v1': 'authz', 'policy/v1': 'policy', 'discovery.k8s.io/v1': 'discovery', 'events.k8s.io/v1': 'events',
  'coordination.k8s.io/v1': 'coordination', 'autoscaling/v1': 'autoscaling', 'meta.k8s.io/v1': 'meta',
};

export function messageFor(apiVersion: string, kind: string): protobuf.Type | undefined {
  // DeleteOptions travels under the group version of the resource it deletes
  const pkg = kind === 'DeleteOptions' ? 'meta' : GROUP_PKG[apiVersion];
  if (!pkg || !MESSAGES[`${pkg}.${kind}`]) return undefined;
  return protoRoot.lookupType(`${pkg}.${kind}`);
}

export const isProtobufBody = (b: Buffer): boolean => b.length >= 4 && b.subarray(0, 4).equals(MAGIC);

/** Decode a whole request body: magic, envelope, object. Returns the object as the Go server's JSON. */
export function decodeProtobufBody(body: Buffer): Record<string, Json> {
  if (!isProtobufBody(body)) throw new ProtobufBodyError('malformed', `the request body was sent as ${PROTOBUF_MIME} but does not start with the "k8s\\x00" magic bytes`);
  const unknownType = protoRoot.lookupType('k8s.Unknown');
  const env = readMessage(protobuf.Reader.create(body.subarray(4)), body.length - 4, unknownType, '(envelope)', true);
  const tm = env.get(1) as Map<number, unknown> | undefined;
  const apiVersion = String(tm?.get(1) ?? '');
  const kind = String(tm?.get(2) ?? '');
  const enc = String(env.get(3) ?? '');
  if (enc) throw new ProtobufBodyError('unsupported', `the protobuf envelope says contentEncoding "${enc}"; the stand-in reads only unencoded bodies`);
  const ct = String(env.get(4) ?? '');
  if (ct && ct !== PROTOBUF_MIME) throw new ProtobufBodyError('unsupported', `the protobuf envelope carries content type "${ct}"; the stand-in reads only ${PROTOBUF_MIME}`);
  if (!kind) throw new ProtobufBodyError('malformed', 'the protobuf envelope names no kind (typeMeta.kind is empty)');
  const type = messageFor(apiVersion, kind);
  if (!type) throw new ProtobufBodyError('unsupported', `the stand-in has no protobuf definition for kind "${kind}" of apiVersion "${apiVersion}"; send it as application/json`);
  const raw = (env.get(2) as Uint8Array | undefined) ?? new Uint8Array();
  const fields = readMessage(protobuf.Reader.create(raw), raw.length, type, kind, false);
  return { kind, apiVersion, ...(toJson(type, fields, kind) as Record<string, Json>) };
}

const WIRE: Record<string, number> = { int32: 0, int64: 0, uint32: 0, uint64: 0, bool: 0, double: 1, string: 2, bytes: 2 };

/** Read one message's fields (field id → value; repeated/map fields collect). Messages inside are already JSON,
 *  except when `raw` (the envelope), where sub-messages stay as maps. */
function readMessage(r: protobuf.Reader, len: number, type: protobuf.Type, path: string, raw: boolean): Map<number, unknown> {
  const end = r.pos + len;
  const out = new Map<number, unknown>();
  try {
    while (r.pos < end) {
      const tag = r.uint32();
      const id = tag >>> 3;
      const wt = tag & 7;
      if (id === 0) throw new ProtobufBodyError('malformed', `${path}: field number 0 is not valid protobuf`);
      const f = type.fieldsById[id];
      if (!f) {
        throw new ProtobufBodyError('unsupported', `${path}: field number ${id} (wire type ${wt}) of ${type.fullName.slice(1)} is not modelled by the stand-in; ` +
          `refusing the object rather than dropping that field (send it as application/json to store it as is)`);
      }
      const name = path + '.' + (info(f).json || f.name);
      if (f.map) {
        expectWire(wt, 2, name);
        const mf = f as unknown as protobuf.MapField;
        const entryEnd = r.uint32() + r.pos;
        let k: unknown = '';
        let v: unknown;
        while (r.pos < entryEnd) {
          const t = r.uint32();
          if (t >>> 3 === 1) k = readScalar(r, mf.keyType, t & 7, name);
          else if (t >>> 3 === 2) v = readValue(r, f, t & 7, `${name}[${String(k)}]`, raw);
          else throw new ProtobufBodyError('malformed', `${name}: a map entry has field number ${t >>> 3}`);
        }
        const m = (out.get(id) as Map<string, unknown> | undefined) ?? new Map<string, unknown>();
        m.set(String(k), v ?? zeroOf(f));
        out.set(id, m);
      } else if (f.repeated) {
        const list = (out.get(id) as unknown[] | undefined) ?? [];
        if (wt === 2 && WIRE[f.type] !== undefined && WIRE[f.type] !== 2) { // packed numbers
          const pend = r.uint32() + r.pos;
          while (r.pos < pend) list.push(readScalar(r, f.type, WIRE[f.type], name));
        } else list.push(readValue(r, f, wt, `${name}[${list.length}]`, raw));
        out.set(id, list);
      } else out.set(id, readValue(r, f, wt, name, raw));
    }
  } catch (e) {
    if (e instanceof ProtobufBodyError) throw e;
    throw new ProtobufBodyError('malformed', `${path}: the protobuf message is truncated or corrupt (${(e as Error).message})`);
  }
  if (r.pos !== end) throw new ProtobufBodyError('malformed', `${path}: a length prefix points past the end of its message`);
  return out;
}

function expectWire(wt: number, want: number, path: string): void {
  if (wt !== want) throw new ProtobufBodyError('malformed', `${path}: wire type ${wt} where the Kubernetes API has wire type ${want}`);
}

function readScalar(r: protobuf.Reader, t: string, wt: number, path: string): unknown {
  const want = WIRE[t];
  if (want === undefined) throw new ProtobufBodyError('malformed', `${path}: unexpected type ${t}`);
  expectWire(wt, want, path);
  switch (t) {
    case 'string': return r.string();
    case 'bytes': return r.bytes();
    case 'bool': return r.bool();
    case 'int32': return r.int32();
    case 'uint32': return r.uint32();
    case 'double': return r.double();
    default: { const v = r.int64() as unknown; return typeof v === 'number' ? v : (v as { toNumber(): number }).toNumber(); }
  }
}

function readValue(r: protobuf.Reader, f: protobuf.Field, wt: number, path: string, raw: boolean): unknown {
  const rt = f.resolvedType;
  if (!(rt instanceof protobuf.Type)) return readScalar(r, f.type, wt, path);
  expectWire(wt, 2, path);
  const len = r.uint32();
  if (r.pos + len > r.len) throw new ProtobufBodyError('malformed', `${path}: the protobuf message is truncated (a length prefix points past the end of the body)`);
  const fields = readMessage(r, len, rt, path, raw);
  if (raw) return fields;
  const special = rt.fullName.startsWith('.k8s.') ? rt.name : undefined;
  return special ? specialJson(special, fields, path) : toJson(rt, fields, path);
}

function zeroOf(f: protobuf.Field): unknown {
  if (f.resolvedType instanceof protobuf.Type) return f.resolvedType.fullName.startsWith('.k8s.') ? specialJson(f.resolvedType.name, new Map(), '') : toJson(f.resolvedType, new Map(), '');
  return f.type === 'string' ? '' : f.type === 'bytes' ? new Uint8Array() : f.type === 'bool' ? false : 0;
}

/** A special message as JSON; `zero: true` when Go would see its zero value. */
interface Special { json: Json; zero: boolean }
const isSpecial = (v: unknown): v is Special => typeof v === 'object' && v !== null && 'zero' in v && 'json' in v && Object.keys(v).length === 2;

function specialJson(name: string, m: Map<number, unknown>, path: string): Special | Json {
  const num = (id: number) => Number(m.get(id) ?? 0);
  switch (name) {
    case 'Time': case 'MicroTime': {
      const s = num(1), n = num(2);
      if (s === 0 && n === 0) return { json: null, zero: true };
      const base = new Date(s * 1000).toISOString().slice(0, 19);
      return { json: name === 'Time' ? `${base}Z` : `${base}.${String(Math.floor(n / 1000)).padStart(6, '0')}Z`, zero: false };
    }
    case 'Duration': return { json: goDuration(num(1)), zero: num(1) === 0 };
    case 'Quantity': { const q = String(m.get(1) ?? ''); return { json: q || '0', zero: q === '' || q === '0' }; }
    case 'IntOrString': return num(1) === 1 ? { json: String(m.get(3) ?? ''), zero: false } : { json: num(2), zero: num(2) === 0 };
    case 'RawExtension': case 'FieldsV1': {
      const b = m.get(1) as Uint8Array | undefined;
      if (!b || !b.length) return { json: null, zero: true };
      try { return { json: JSON.parse(Buffer.from(b).toString('utf8')) as Json, zero: false }; } catch {
        throw new ProtobufBodyError('unsupported', `${path}: the embedded ${name} is not JSON; the stand-in reads only JSON there`);
      }
    }
    case 'ExtraValue': return (m.get(1) as Json[] | undefined) ?? [];
    default: throw new ProtobufBodyError('unsupported', `${path}: no JSON form for ${name}`);
  }
}

/** Go's time.Duration String(): 1h2m3s, 1.5s, 0s. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let n = Math.abs(ns);
  let out: string;
  if (n < 1e9) {
    const [unit, div] = n < 1e3 ? ['ns', 1] : n < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    out = `${trimFrac(n / div)}${unit}`;
  } else {
    const h = Math.floor(n / 3.6e12); n -= h * 3.6e12;
    const mi = Math.floor(n / 6e10); n -= mi * 6e10;
    const s = `${trimFrac(n / 1e9)}s`;
    out = h ? `${h}h${mi}m${s}` : mi ? `${mi}m${s}` : s;
  }
  return (neg ? '-' : '') + out;
}
const trimFrac = (x: number) => String(Number(x.toFixed(9)));

function scalarJson(v: unknown): Json {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return v as Json;
}
function isZeroScalar(v: unknown): boolean {
  return v === '' || v === 0 || v === false || (v instanceof Uint8Array && v.length === 0);
}
const unwrap = (v: unknown): Json => (isSpecial(v) ? v.json : scalarJson(v));

/** A message's fields as Go's encoding/json writes the struct. */
function toJson(type: protobuf.Type, m: Map<number, unknown>, _path: string): Json {
  const out: Record<string, Json> = {};
  for (const f of [...type.fieldsArray].sort((a, b) => a.id - b.id)) {
    const { json, flags } = info(f);
    const pointer = flags.includes('*'), always = flags.includes('!'), inline = flags.includes('i');
    const v = m.get(f.id);
    if (f.map) {
      const mm = v as Map<string, unknown> | undefined;
      if (mm?.size) out[json] = Object.fromEntries([...mm].map(([k, x]) => [k, unwrap(x)]));
      continue;
    }
    if (f.repeated) {
      const l = v as unknown[] | undefined;
      if (l?.length) out[json] = l.map(unwrap);
      continue;
    }
    const rt = f.resolvedType;
    if (rt instanceof protobuf.Type && !rt.fullName.startsWith('.k8s.')) {
      if (v === undefined && pointer) continue;
      const obj = (v ?? toJson(rt, new Map(), '')) as Json; // a non-pointer struct is always written
      if (inline && obj && typeof obj === 'object' && !Array.isArray(obj)) Object.assign(out, obj);
      else out[json] = obj;
      continue;
    }
    if (rt instanceof protobuf.Type) { // Time, Quantity, IntOrString…
      // a non-pointer metav1.Time is a struct: encoding/json writes it even when zero, as null
      // (so template.metadata.creationTimestamp is null, as on a real server)
      const isTime = rt.name === 'Time' || rt.name === 'MicroTime';
      if (v === undefined) { if (isTime && !pointer) out[json] = null; continue; }
      const s = v as Special;
      if (pointer || !s.zero || isTime) out[json] = s.json;
      continue;
    }
    if (v === undefined) {
      if (always && !pointer) out[json] = scalarJson(zeroOf(f));
      continue;
    }
    if (pointer || always || !isZeroScalar(v)) out[json] = scalarJson(v);
  }
  return out;
}
