// DiscoveryResponses encoded once and shared by every stream that gets the same content: only the nonce differs per
// stream, and protobuf lets a field be appended after the others — so a push to N streams serializes the resources
// once instead of N times (a 1,000-endpoint ClusterLoadAssignment is ~30 KB; 100 streams made 3 MB of garbage).
import type * as grpc from '@grpc/grpc-js';
import { messageType, type AnyMessage } from './protos.ts';

/** version_info, resources and type_url of a DiscoveryResponse, encoded (no nonce). */
export function encodeResponseBody(r: { version_info: string; resources: readonly AnyMessage[]; type_url: string }): Buffer {
  return Buffer.from(messageType('envoy.service.discovery.v3.DiscoveryResponse').encode({ version_info: r.version_info, resources: r.resources, type_url: r.type_url }).finish());
}

/** The body plus field 5 (nonce, a string). */
export function withNonce(body: Buffer, nonce: string): Buffer {
  const n = Buffer.from(nonce, 'utf8');
  const len: number[] = [];
  for (let v = n.length; ; v >>>= 7) {
    if (v < 0x80) { len.push(v); break; }
    len.push((v & 0x7f) | 0x80);
  }
  return Buffer.concat([body, Buffer.from([(5 << 3) | 2, ...len]), n]);
}

/** A grpc-js service definition whose responses may be pre-encoded Buffers (anything else is serialized as usual). */
export function acceptingEncoded(def: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, m] of Object.entries(def)) {
    const serialize = m.responseSerialize;
    out[name] = { ...m, responseSerialize: (v: unknown) => (Buffer.isBuffer(v) ? v : serialize(v)) };
  }
  return out as grpc.ServiceDefinition;
}
