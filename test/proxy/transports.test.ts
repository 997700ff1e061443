// The gateway's two transports keep one contract (src/proxy/conn.ts), checked against plain net.Socket peers:
// bytes both ways, FIN passed on while the other direction goes on, a refused or unresolvable connect named,
// backpressure with drain, a reset named, destroy closing once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHash } from 'node:crypto';
import tls from 'node:tls';
import { TRANSPORTS } from '../helpers/transports.ts';
import { handleBindings } from '../../src/proxy/handleTransport.ts';
import { NET_SERVER_OPTIONS } from '../../src/proxy/netTransport.ts';
import { HIGH_WATER_BYTES, type Conn, type ConnHandlers, type Transport } from '../../src/proxy/conn.ts';
import { Gateway } from '../../src/proxy/gateway.ts';
import { newRegistry } from '../../src/observe/metrics.ts';
import { createLogger } from '../../src/log.ts';
import { gatewaySni } from '../../src/mesh/names.ts';

const listening = async (srv: net.Server): Promise<number> => {
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return (srv.address() as net.AddressInfo).port;
};
const closedPort = async (): Promise<number> => { const s = net.createServer(); const p = await listening(s); await new Promise((r) => s.close(r)); return p; };

/** a Conn's events, recorded */
function recorder(c: Conn, extra: Partial<ConnHandlers> = {}) {
  const got: Buffer[] = [];
  const rec = { got, ended: false, drains: 0, closes: [] as (string | undefined)[], text: () => Buffer.concat(got).toString() };
  let closed!: () => void;
  const closedP = new Promise<void>((r) => { closed = r; });
  c.on({
    data: (d) => { got.push(d); extra.data?.(d); },
    end: () => { rec.ended = true; extra.end?.(); },
    drain: () => { rec.drains++; extra.drain?.(); },
    close: (err) => { rec.closes.push(err); closed(); },
  });
  return { ...rec, get endedNow() { return rec.ended; }, get drainCount() { return rec.drains; }, closed: closedP };
}

const connected = (t: Transport, host: string, port: number): Promise<{ c: Conn; err?: string }> => new Promise((resolve) => {
  const c = t.connect(host, port, (err) => resolve(err === undefined ? { c } : { c, err }));
});

test('this Node.js has the handle bindings in the shape the gateway uses (else it would fall back to net.Socket)', () => {
  const b = handleBindings();
  assert.equal(typeof b, 'object', `handleBindings(): ${String(b)}`);
});

for (const t of TRANSPORTS) {
  test(`[${t.name}] accepted: bytes echoed, the client's FIN passed on while the answer still flows, then closed cleanly`, async () => {
    const srv = net.createServer(NET_SERVER_OPTIONS);
    const port = await listening(srv);
    const closes: (string | undefined)[] = [];
    t.accept(srv, (c) => {
      const seen: Buffer[] = [];
      c.on({
        data: (d) => { seen.push(d); c.write(d); },
        end: () => { c.write(Buffer.from(`|after FIN: ${Buffer.concat(seen).length} bytes`)); c.end(); },
        drain: () => {},
        close: (err) => closes.push(err),
      });
      c.resume();
    }, () => {});
    const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let answer = '';
    client.on('data', (d) => { answer += d; });
    const ended = new Promise<void>((r) => client.once('end', () => r()));
    client.write('hello');
    client.end(); // half-close: we still read
    await ended;
    assert.equal(answer, 'hello|after FIN: 5 bytes');
    client.destroy();
    for (let i = 0; i < 100 && closes.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(closes, [undefined], 'closed once, without an error');
    srv.close();
  });

  test(`[${t.name}] connect: to an address and to a host name; refused and unresolvable named`, async () => {
    const srv = net.createServer((s) => s.once('data', (d) => s.end(`re:${d}`)));
    const port = await listening(srv);
    for (const host of ['127.0.0.1', 'localhost']) {
      const { c, err } = await connected(t, host, port);
      assert.equal(err, undefined, `connect ${host}`);
      const r = recorder(c);
      c.resume();
      c.write(Buffer.from(host));
      for (let i = 0; i < 200 && !r.endedNow; i++) await new Promise((res) => setTimeout(res, 10));
      assert.equal(r.closes.length, 0, 'the peer\'s FIN alone does not close: our side may still write');
      assert.equal(r.text(), `re:${host}`);
      c.end();
      await r.closed;
      assert.deepEqual(r.closes, [undefined]);
    }
    assert.equal((await connected(t, '127.0.0.1', await closedPort())).err, 'ECONNREFUSED');
    const bad = await connected(t, 'no-such-host.invalid', port);
    assert.match(bad.err ?? '', /ENOTFOUND|EAI_AGAIN/);
    assert.equal(bad.c.destroyed, true);
    srv.close();
  });

  test(`[${t.name}] connect: a connected Conn reads from the start, so a peer that speaks first is heard without resume()`, async () => {
    const srv = net.createServer((s) => s.end('greeting'));
    const port = await listening(srv);
    let r!: ReturnType<typeof recorder>;
    const c = await new Promise<Conn>((resolve, reject) => {
      const conn = t.connect('127.0.0.1', port, (err) => { if (err) return reject(new Error(err)); r = recorder(conn); resolve(conn); });
    });
    for (let i = 0; i < 200 && !r.endedNow; i++) await new Promise((res) => setTimeout(res, 10));
    assert.equal(r.text(), 'greeting');
    assert.equal(r.endedNow, true, 'the peer\'s FIN read');
    c.end();
    await r.closed;
    srv.close();
  });

  test(`[${t.name}] backpressure: write() says stop over the high-water mark, drain says go on, every byte arrives`, async () => {
    const received: Buffer[] = [];
    let gotPeer!: (s: net.Socket) => void;
    const peerP = new Promise<net.Socket>((r) => { gotPeer = r; });
    const srv = net.createServer((s) => { s.pause(); s.on('data', (d) => received.push(d)); gotPeer(s); });
    const { c: conn, err } = await connected(t, '127.0.0.1', await listening(srv));
    assert.equal(err, undefined);
    const peer = await peerP;
    let drained!: () => void;
    const drainedP = new Promise<void>((res) => { drained = res; });
    const r = recorder(conn, { drain: () => drained() });
    conn.resume(); // to read the peer's FIN at the end
    const chunk = Buffer.alloc(256 * 1024, 9);
    let written = 0;
    while (conn.write(chunk)) { written += chunk.length; assert.ok(written < 64 << 20, 'the peer reads nothing: write() must say stop'); }
    written += chunk.length;
    assert.ok(conn.writableLength >= HIGH_WATER_BYTES, `queued ${conn.writableLength} bytes when write() said stop`);
    peer.resume();
    await drainedP;
    conn.end();
    await new Promise<void>((res) => peer.once('end', () => res()));
    assert.equal(Buffer.concat(received).length, written);
    peer.end();
    await r.closed;
    srv.close();
  });

  test(`[${t.name}] a reset by the peer is named, and destroy() closes once`, async () => {
    const srv = net.createServer((s) => s.once('data', () => s.resetAndDestroy()));
    const port = await listening(srv);
    const { c } = await connected(t, '127.0.0.1', port);
    const r = recorder(c);
    c.resume();
    c.write(Buffer.from('x'));
    await r.closed;
    assert.deepEqual(r.closes, ['ECONNRESET']);
    const { c: c2 } = await connected(t, '127.0.0.1', port);
    const r2 = recorder(c2);
    c2.destroy();
    c2.destroy();
    await r2.closed;
    assert.equal(c2.write(Buffer.from('late')), false, 'nothing is written after destroy');
    await new Promise((res) => setTimeout(res, 50));
    assert.equal(r2.closes.length, 1);
    srv.close();
  });

  test(`[${t.name}] through the gateway: bytes and the FIN the client sends right after its ClientHello (while upstream connects) reach the endpoint in order, whose answer still comes back`, async () => {
    const sni = gatewaySni('half.demo.svc.cluster.local', 8080);
    const hello = await new Promise<Buffer>((resolve) => {
      const rec = net.createServer((s) => s.once('data', (d: Buffer) => { resolve(d); s.destroy(); rec.close(); }));
      void listening(rec).then((p) => tls.connect({ host: '127.0.0.1', port: p, servername: sni }).on('error', () => {}));
    });
    // the endpoint answers only once the client's FIN has arrived, with what came before it
    const endpoint = net.createServer({ allowHalfOpen: true }, (s) => {
      const h = createHash('sha256');
      let n = 0;
      s.on('data', (d: Buffer) => { n += d.length; h.update(d); });
      s.on('end', () => s.end(`${n} bytes ${h.digest('hex')}, then FIN`));
    });
    const ep = await listening(endpoint);
    const gw = new Gateway({ host: '127.0.0.1', port: 0, registry: newRegistry(), log: createLogger('t'), transport: t });
    gw.setEndpoints(new Map([[sni, [{ address: '127.0.0.1', port: ep, healthy: true }]]]));
    const port = await gw.listen();
    for (const afterHello of [0, 300, 200 * 1024]) { // nothing; a little; more than the gateway holds before pausing the client
      const sent = Buffer.concat([hello, Buffer.alloc(afterHello, 0x17)]);
      const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
      let answer = '';
      client.on('data', (d) => { answer += d; });
      client.on('error', () => {});
      const ended = new Promise<void>((r) => { client.once('end', () => r()); client.once('close', () => r()); }); // close: refused
      client.write(hello);
      if (afterHello) client.write(sent.subarray(hello.length));
      client.end();
      await ended;
      assert.equal(answer, `${sent.length} bytes ${createHash('sha256').update(sent).digest('hex')}, then FIN`, `${afterHello} bytes after the hello`);
      client.destroy();
    }
    await gw.drain(100);
    endpoint.close();
  });
}
