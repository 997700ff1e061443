// A TCP proxy in front of an API stand-in that can freeze: while frozen it accepts connections and takes their bytes
// but passes nothing on in either direction, as a SIGSTOPped API server (whose kernel still accepts and ACKs) does.
// Thawing delivers what was held, as SIGCONT does.
import net from 'node:net';

export interface FreezeProxy {
  port: number;
  freeze(): void;
  thaw(): void;
  /** connections accepted so far */
  connections(): number;
  close(): Promise<void>;
}

export async function freezeProxy(upstreamPort: number, host = '127.0.0.1'): Promise<FreezeProxy> {
  let frozen = false;
  let accepted = 0;
  const held: Array<() => void> = [];
  const sockets = new Set<net.Socket>();
  const pass = (from: net.Socket, to: net.Socket): void => {
    from.on('data', (c) => {
      if (frozen) held.push(() => { if (!to.destroyed) to.write(c); });
      else if (!to.destroyed) to.write(c);
    });
    from.on('end', () => { if (frozen) held.push(() => to.end()); else to.end(); });
    from.on('close', () => { if (frozen) held.push(() => to.destroy()); else to.destroy(); });
    from.on('error', () => {});
  };
  const server = net.createServer((client) => {
    accepted++;
    const up = net.connect(upstreamPort, host);
    sockets.add(client);
    sockets.add(up);
    client.on('close', () => sockets.delete(client));
    up.on('close', () => sockets.delete(up));
    pass(client, up);
    pass(up, client);
  });
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    freeze: () => { frozen = true; },
    thaw: () => {
      frozen = false;
      for (const f of held.splice(0)) f();
    },
    connections: () => accepted,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}
