import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { parseClientHello } from '../../src/proxy/clientHello.ts';

/** Capture the raw ClientHello bytes a real node TLS client sends. */
async function captureHello(servername: string | undefined): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      server.once('connection', (sock) => {
        let acc = Buffer.alloc(0);
        sock.on('data', (d: Buffer) => {
          acc = Buffer.concat([acc, d]);
          if (parseClientHello(acc).kind !== 'need-more') { sock.destroy(); resolve(acc); }
        });
      });
      const c = tls.connect({ host: '127.0.0.1', port, ...(servername ? { servername } : {}), rejectUnauthorized: false });
      c.on('error', () => {});
      setTimeout(() => reject(new Error('no hello within 5s')), 5000).unref();
    });
  } finally {
    server.close();
  }
}

/** Re-frame a hello's handshake payload into TLS records of at most `size` bytes. */
function reRecord(hello: Buffer, size: number): Buffer {
  const payload = hello.subarray(5, 5 + hello.readUInt16BE(3));
  const out: Buffer[] = [];
  for (let o = 0; o < payload.length; o += size) {
    const chunk = payload.subarray(o, o + size);
    const h = Buffer.from([0x16, 0x03, 0x01, 0, 0]);
    h.writeUInt16BE(chunk.length, 3);
    out.push(h, chunk);
  }
  return Buffer.concat(out);
}

test('extracts the SNI from a real node TLS client hello', async () => {
  const sni = 'outbound_.8080_._.echo.demo.svc.cluster.local';
  const hello = await captureHello(sni);
  assert.deepEqual(parseClientHello(hello), { kind: 'sni', serverName: sni });
});

test('a hello without SNI is reported as no-sni', async () => {
  const hello = await captureHello(undefined);
  assert.equal(parseClientHello(hello).kind, 'no-sni');
});

test('needs more bytes at every prefix of a hello, then finds the SNI (TCP fragmentation)', async () => {
  const hello = await captureHello('a.b.svc.cluster.local');
  const len = 5 + hello.readUInt16BE(3);
  for (let i = 0; i < len; i++) assert.equal(parseClientHello(hello.subarray(0, i)).kind, 'need-more', `prefix ${i}`);
  assert.deepEqual(parseClientHello(hello.subarray(0, len)), { kind: 'sni', serverName: 'a.b.svc.cluster.local' });
});

test('reassembles a hello split across several TLS records', async () => {
  const hello = await captureHello('split.ns.svc.cluster.local');
  for (const size of [1, 7, 50, 100]) {
    const framed = reRecord(hello, size);
    assert.deepEqual(parseClientHello(framed), { kind: 'sni', serverName: 'split.ns.svc.cluster.local' }, `records of ${size}`);
    assert.equal(parseClientHello(framed.subarray(0, framed.length - 1)).kind, 'need-more');
  }
});

test('plaintext HTTP and other garbage is not-tls', () => {
  assert.equal(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n\r\n')).kind, 'not-tls');
  assert.equal(parseClientHello(Buffer.from([0x16, 0x02, 0, 0, 1])).kind, 'not-tls');
  assert.equal(parseClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0, 0, 0])).kind, 'not-tls');
});

test('an oversized hello is refused rather than buffered forever', () => {
  const recs: Buffer[] = [];
  for (let i = 0; i < 10; i++) {
    const body = Buffer.alloc(16000);
    if (i === 0) { body[0] = 1; body.writeUIntBE(0xfffff0, 1, 3); }
    recs.push(Buffer.from([0x16, 0x03, 0x01, 16000 >> 8, 16000 & 0xff]), body);
  }
  assert.equal(parseClientHello(Buffer.concat(recs)).kind, 'not-tls');
});

test('fuzz: random and mutated inputs never throw and give a valid verdict', async () => {
  const hello = await captureHello('fuzz.ns.svc.cluster.local');
  let seed = 12345;
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  for (let i = 0; i < 20000; i++) {
    let buf: Buffer;
    if (i % 2 === 0) {
      buf = Buffer.alloc(rnd(600));
      for (let j = 0; j < buf.length; j++) buf[j] = rnd(256);
      if (i % 4 === 0 && buf.length > 2) { buf[0] = 0x16; buf[1] = 0x03; }
    } else {
      buf = Buffer.from(hello.subarray(0, rnd(hello.length + 1)));
      for (let k = rnd(4); k >= 0; k--) if (buf.length) buf[rnd(buf.length)] = rnd(256);
    }
    const r = parseClientHello(buf);
    assert.ok(['need-more', 'not-tls', 'no-sni', 'sni'].includes(r.kind));
  }
});

test('bytes of another record type right after a whole hello (early data in the same read) still route; before it is whole they are refused, not waited on', async () => {
  const sni = 'outbound_.8080_._.echo.demo.svc.cluster.local';
  const hello = await captureHello(sni);
  const appData = Buffer.from([0x17, 0x03, 0x03, 0x00, 0x03, 1, 2, 3]);
  assert.deepEqual(parseClientHello(Buffer.concat([hello, appData])), { kind: 'sni', serverName: sni });
  assert.deepEqual(parseClientHello(Buffer.concat([reRecord(hello, 100), appData.subarray(0, 2)])), { kind: 'sni', serverName: sni });
  const split = reRecord(hello, 100);
  const cut = Buffer.concat([split.subarray(0, 105), appData]); // the first record of the hello, then application data
  const r = parseClientHello(cut);
  assert.equal(r.kind, 'not-tls');
  assert.match((r as { reason: string }).reason, /non-handshake record/);
  assert.equal(parseClientHello(Buffer.concat([appData, hello])).kind, 'not-tls', 'a stream that starts with another record type is not a hello');
});
