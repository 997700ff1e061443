// The proxies' lean gRPC client against grpc-js's server (what pilot and the CA run) and against peers that are not
// gRPC servers: statuses and messages come through as grpc-js reports them, and every failure is a GrpcError that
// names the address, never a crash or a hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { GrpcChannel, GrpcError, GrpcStatus } from '../../src/grpc/client.ts';
import { MessageReader, frameMessage } from '../../src/grpc/framing.ts';

const text = { encode: (s: string) => Buffer.from(s), decode: (b: Buffer) => b.toString() };
const passthrough = { serialize: (v: Buffer) => v, deserialize: (b: Buffer) => b };
const UNARY = { path: '/t.T/Echo', requestStream: false, responseStream: false, requestSerialize: passthrough.serialize, requestDeserialize: passthrough.deserialize, responseSerialize: passthrough.serialize, responseDeserialize: passthrough.deserialize };
const BIDI = { ...UNARY, path: '/t.T/Chat', requestStream: true, responseStream: true };

async function grpcServer(): Promise<{ address: string; close: () => void }> {
  const server = new grpc.Server();
  server.addService({ Echo: UNARY, Chat: BIDI } as unknown as grpc.ServiceDefinition, {
    Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const req = call.request.toString();
      if (req === 'deny') return cb({ code: grpc.status.PERMISSION_DENIED, details: 'not you: 100% sure' });
      if (req === 'slow') return void setTimeout(() => cb(null, Buffer.from('late')), 2000);
      cb(null, Buffer.from(`${req} from ${call.metadata.get('who')[0] ?? '?'}`));
    },
    Chat: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (m: Buffer) => {
        if (m.toString() === 'bye') call.end();
        else if (m.toString() === 'fail') call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'bad chat' });
        else call.write(Buffer.from(m.toString().toUpperCase()));
      });
    },
  });
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => e ? rej(e) : res(p)));
  return { address: `127.0.0.1:${port}`, close: () => server.forceShutdown() };
}

const failure = (p: Promise<unknown>): Promise<GrpcError> => p.then(() => assert.fail('expected a failure'), (e: unknown) => { assert.ok(e instanceof GrpcError, String(e)); return e; });

test('framing: messages split across and packed into chunks come out whole; oversized and compressed ones are refused', () => {
  const r = new MessageReader(100);
  const two = Buffer.concat([frameMessage(Buffer.from('hello')), frameMessage(Buffer.from('world!'))]);
  assert.deepEqual(r.push(two.subarray(0, 7)).map(String), []);
  assert.deepEqual(r.push(two.subarray(7)).map(String), ['hello', 'world!']);
  assert.throws(() => new MessageReader(100).push(frameMessage(Buffer.alloc(101))), /101 bytes exceeds the 100-byte limit/);
  const compressed = frameMessage(Buffer.from('x')); compressed[0] = 1;
  assert.throws(() => new MessageReader().push(compressed), /compressed/);
});

test('unary: answer, metadata, status with its message, deadline — as grpc-js reports them', async () => {
  const s = await grpcServer();
  const ch = new GrpcChannel(s.address);
  try {
    assert.equal(await ch.unary('/t.T/Echo', text, 'hi', { who: 'sidecar' }, 5000), 'hi from sidecar');
    const denied = await failure(ch.unary('/t.T/Echo', text, 'deny', {}, 5000));
    assert.equal(denied.code, GrpcStatus.PERMISSION_DENIED);
    assert.equal(denied.code, grpc.status.PERMISSION_DENIED);
    assert.equal(denied.message, 'not you: 100% sure');
    const late = await failure(ch.unary('/t.T/Echo', text, 'slow', {}, 200));
    assert.equal(late.code, GrpcStatus.DEADLINE_EXCEEDED);
    const missing = await failure(ch.unary('/t.T/Nope', text, 'x', {}, 5000));
    assert.equal(missing.code, GrpcStatus.UNIMPLEMENTED);
    // the connection survives failed calls
    assert.equal(await ch.unary('/t.T/Echo', text, 'again', { who: 'x' }, 5000), 'again from x');
  } finally { ch.close(); s.close(); }
});

test('bidi: messages both ways, the server ending (OK) and failing (its status) the call', async () => {
  const s = await grpcServer();
  const ch = new GrpcChannel(s.address);
  try {
    const got: string[] = [];
    const call = ch.bidi('/t.T/Chat', text);
    call.on('data', (m: string) => got.push(m));
    const ended = new Promise<string>((res) => { call.on('end', () => res('end')); call.on('error', (e: Error) => res(`error ${e.message}`)); });
    call.write('a'); call.write('b'); call.write('bye');
    assert.equal(await ended, 'end');
    assert.deepEqual(got, ['A', 'B']);
    const failing = ch.bidi('/t.T/Chat', text);
    const err = new Promise<GrpcError>((res) => failing.on('error', res));
    failing.write('fail');
    const e = await err;
    assert.equal(e.code, GrpcStatus.INVALID_ARGUMENT);
  } finally { ch.close(); s.close(); }
});

test('a server killed mid-stream, nobody listening, an HTTP/1 server, garbage on the socket: a GrpcError naming the address', async () => {
  const s = await grpcServer();
  const ch = new GrpcChannel(s.address);
  const call = ch.bidi('/t.T/Chat', text);
  const first = new Promise((res) => call.once('data', res));
  const broken = new Promise<GrpcError>((res) => call.on('error', res));
  call.write('x');
  await first;
  s.close();
  const e = await broken;
  assert.ok([GrpcStatus.UNAVAILABLE, GrpcStatus.CANCELLED, GrpcStatus.INTERNAL].includes(e.code as 1), `${e.code} ${e.message}`);
  ch.close();

  const closedPort = await new Promise<number>((res) => { const srv = net.createServer().listen(0, '127.0.0.1', () => { const p = (srv.address() as net.AddressInfo).port; srv.close(() => res(p)); }); });
  const refused = await failure(new GrpcChannel(`127.0.0.1:${closedPort}`).unary('/t.T/Echo', text, 'x', {}, 5000));
  assert.equal(refused.code, GrpcStatus.UNAVAILABLE);
  assert.match(refused.message, new RegExp(`127\\.0\\.0\\.1:${closedPort}`));

  const h1 = http.createServer((_q, r) => r.end('hello')).listen(0, '127.0.0.1');
  await new Promise((r) => h1.once('listening', r));
  const garbage = net.createServer((sock) => sock.end('SSH-2.0-OpenSSH_9.2\r\n')).listen(0, '127.0.0.1');
  await new Promise((r) => garbage.once('listening', r));
  try {
    for (const srv of [h1, garbage]) {
      const addr = `127.0.0.1:${(srv.address() as net.AddressInfo).port}`;
      const c = new GrpcChannel(addr);
      const err = await failure(c.unary('/t.T/Echo', text, 'x', {}, 3000));
      assert.notEqual(err.code, GrpcStatus.OK);
      assert.match(err.message, new RegExp(addr.replace(/\./g, '\\.')));
      c.close();
    }
  } finally { h1.close(); garbage.close(); }
});

test('a malformed grpc-message from the peer is reported as sent, not thrown', async () => {
  const h2 = http2.createServer();
  h2.on('stream', (st) => st.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '7', 'grpc-message': 'no %zz' }, { endStream: true }));
  await new Promise<void>((r) => h2.listen(0, '127.0.0.1', () => r()));
  const c = new GrpcChannel(`127.0.0.1:${(h2.address() as net.AddressInfo).port}`);
  try {
    const e = await failure(c.unary('/t.T/Echo', text, 'x', {}, 3000));
    assert.equal(e.code, GrpcStatus.PERMISSION_DENIED);
    assert.equal(e.message, 'no %zz');
  } finally { c.close(); h2.close(); }
});

test('addresses: host:port and dns:///host:port are accepted; a missing port is a clear error', () => {
  assert.doesNotThrow(() => new GrpcChannel('dns:///meshfed.meshfed-system.svc:15010').close());
  assert.throws(() => new GrpcChannel('meshfed.meshfed-system.svc'), /expected host:port/);
});
