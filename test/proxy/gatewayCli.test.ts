import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import { MESHFED_BIN } from '../helpers/meshfed.ts';
import { TestAds } from '../helpers/adsServer.ts';
import { selfSigned } from '../helpers/tlsCerts.ts';
import { TYPE_URL } from '../../src/xds/protos.ts';
import { gatewaySni } from '../../src/mesh/names.ts';

const creds = selfSigned('b.test');
const sni = gatewaySni('b.demo.svc.cluster.local', 8080);

test('`meshfed gateway` process: not ready until xDS, then routes by SNI, serves metrics, drains on SIGTERM', async () => {
  const backend = tls.createServer(creds, (s) => { s.on('data', (d: Buffer) => s.write(`b:${d.toString()}`)); s.on('error', () => {}); });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  const ads = new TestAds();
  const xdsAddr = await ads.start();
  const child = spawn(process.execPath, [MESHFED_BIN, 'gateway', '--xds', xdsAddr, '--network', 'net2', '--region', 'us', '--listen', '127.0.0.1:0', '--health', '127.0.0.1:0', '--metrics', '127.0.0.1:0', '--drain-ms', '200'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const ports = await new Promise<{ listen: number; health: number; metrics: number }>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => { out += d; const line = out.split('\n').find((l) => l.startsWith('{')); if (line) resolve(JSON.parse(line)); });
      child.once('exit', (c) => reject(new Error(`gateway exited ${c}`)));
      setTimeout(() => reject(new Error('gateway did not start in 90s')), 90_000).unref(); // generous: a loaded machine starts node slowly
    });
    const ready = async () => (await fetch(`http://127.0.0.1:${ports.health}/healthz/ready`)).status;
    assert.equal(await ready(), 503);
    ads.set(TYPE_URL.cluster, '1', [{ name: sni, type: 'EDS' }]);
    ads.set(TYPE_URL.endpoint, '1', [{ cluster_name: sni, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: (backend.address() as net.AddressInfo).port } } } }] }] }]);
    const end = Date.now() + 5000;
    while ((await ready()) !== 200) { if (Date.now() > end) throw new Error('never ready'); await new Promise((r) => setTimeout(r, 50)); }
    let reply = '';
    for (let i = 0; i < 50 && reply === ''; i++) {
      reply = await new Promise<string>((resolve) => {
        const c = tls.connect({ host: '127.0.0.1', port: ports.listen, servername: sni, ca: creds.cert, checkServerIdentity: () => undefined }, () => c.write('ping'));
        c.once('data', (d: Buffer) => { resolve(d.toString()); c.end(); });
        c.once('error', () => resolve(''));
      });
      if (reply === '') await new Promise((r) => setTimeout(r, 50)); // EDS may land just after CDS
    }
    assert.equal(reply, 'b:ping');
    const metrics = await (await fetch(`http://127.0.0.1:${ports.metrics}/stats/prometheus`)).text();
    assert.match(metrics, new RegExp(`meshfed_gateway_connections_total\\{service="${sni.replace(/\./g, '\\.')}"\\} 1`));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    ads.stop();
    await new Promise((r) => backend.close(r));
  }
});
