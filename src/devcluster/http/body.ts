// Request body reading (as bytes) and decoding (JSON, YAML or Kubernetes protobuf), with a size limit.
import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { ApiError, badRequest } from '../errors.ts';
import { decodeProtobufBody, PROTOBUF_MIME, ProtobufBodyError } from '../proto/decode.ts';

const MAX_BODY = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new ApiError(413, 'RequestEntityTooLarge', `request body larger than ${MAX_BODY} bytes`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

const mediaType = (contentType: string) => contentType.split(';')[0].trim().toLowerCase();

export const isEmptyBody = (body: Buffer): boolean => body.toString('utf8').trim() === '';

export function decodeBody(body: Buffer, contentType: string): unknown {
  const media = mediaType(contentType);
  if (media === PROTOBUF_MIME) {
    if (!body.length) throw badRequest('the request body is empty; an object was expected');
    try {
      return decodeProtobufBody(body);
    } catch (e) {
      if (!(e instanceof ProtobufBodyError)) throw e;
      if (e.kind === 'unsupported') throw new ApiError(415, 'UnsupportedMediaType', `the ${PROTOBUF_MIME} request body cannot be stored faithfully: ${e.message}`);
      throw badRequest(`the request body is not a valid ${PROTOBUF_MIME} object: ${e.message}`);
    }
  }
  const text = body.toString('utf8');
  if (!text.trim()) throw badRequest('the request body is empty; an object was expected');
  const yaml = /yaml/.test(media);
  try {
    return yaml ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    const hint = body.subarray(0, 4).equals(Buffer.from('k8s\0')) ? ` (it looks like ${PROTOBUF_MIME}; send Content-Type: ${PROTOBUF_MIME})` : '';
    throw badRequest(`the request body is not valid ${yaml ? 'YAML' : 'JSON'}: ${(e as Error).message.split('\n')[0]}${hint}`);
  }
}
