// `meshfed dev failover` makes a region's API servers unreachable while clients are connecting to them: a connection
// whose TLS handshake has not finished (or not begun) is no HTTP connection yet, and server.close() waited for it —
// the failover (and the failover bench) hung for minutes. It must be dropped like the others.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { harness } from './harness.ts';

test('setReachable(false) returns while a client is still in its TLS handshake (the connection is dropped)', { timeout: 60_000 }, async () => {
  const h = await harness();
  const port = Number(new URL(h.server.url).port);
  const sock = net.connect(port, '127.0.0.1'); // TCP only: no TLS ClientHello, no HTTP request
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  sock.on('error', () => {});
  try {
    await new Promise<void>((r) => sock.once('connect', () => r()));
    await new Promise((r) => setTimeout(r, 100));
    const done = await Promise.race([h.server.setReachable(false).then(() => 'returned'), new Promise((r) => setTimeout(() => r('still waiting after 10 s'), 10_000))]);
    assert.equal(done, 'returned');
    await closed;
  } finally {
    sock.destroy();
    await h.server.close();
  }
});
