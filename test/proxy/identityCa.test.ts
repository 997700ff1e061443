import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { Registry } from 'prom-client';
import { initCa, loadCaDir } from '../../src/ca/files.ts';
import { Signer } from '../../src/ca/signer.ts';
import { CaServer } from '../../src/ca/server.ts';
import type { TokenReviewer } from '../../src/ca/reviewer.ts';
import { fetchCredentials } from '../../src/proxy/identity.ts';
import { startInbound } from '../../src/proxy/sidecarInbound.ts';
import { Outbound } from '../../src/proxy/sidecarOutbound.ts';
import { newRegistry } from '../../src/observe/metrics.ts';
import { createLogger } from '../../src/log.ts';
import { gatewaySni, spiffeId } from '../../src/mesh/names.ts';

const reviewer: TokenReviewer = { async review(_c, token) { return token === 'tok-a' ? { namespace: 'demo', serviceAccount: 'a' } : token === 'tok-b' ? { namespace: 'demo', serviceAccount: 'b' } : { reason: 'token rejected' }; } };

test('sidecar identity from the real mesh CA: our CSR is accepted, and the issued certs carry A→B mTLS with XFCC', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'proxy-ca-'));
  initCa({ out: dir, clusters: ['east'] });
  const caDir = loadCaDir(join(dir, 'east'));
  const server = new CaServer({ signer: new Signer(caDir), reviewer, trustDomain: 'cluster.local', registry: new Registry(), dnsNames: ['localhost'] });
  const address = `localhost:${await server.start(0, '127.0.0.1')}`;
  writeFileSync(join(dir, 'root.pem'), caDir.rootCertPem);
  writeFileSync(join(dir, 'tok-a'), 'tok-a\n');
  writeFileSync(join(dir, 'tok-b'), 'tok-b\n');
  const log = createLogger('t');
  const app = http.createServer((req, res) => res.end(String(req.headers['x-forwarded-client-cert'])));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  try {
    const idA = spiffeId('cluster.local', 'demo', 'a');
    const idB = spiffeId('cluster.local', 'demo', 'b');
    const a = await fetchCredentials({ caAddress: address, caCertFile: join(dir, 'root.pem'), tokenFile: join(dir, 'tok-a'), cluster: 'east', spiffeId: idA, log });
    const b = await fetchCredentials({ caAddress: address, caCertFile: join(dir, 'root.pem'), tokenFile: join(dir, 'tok-b'), cluster: 'east', spiffeId: idB, log });
    assert.equal(new X509Certificate(a.cert.split(/(?<=-----END CERTIFICATE-----)/)[0]!).subjectAltName, `URI:${idA}`);
    await assert.rejects(fetchCredentials({ caAddress: address, caCertFile: join(dir, 'root.pem'), tokenFile: join(dir, 'tok-a'), cluster: 'east', spiffeId: idB, log }), /CreateCertificate failed/);
    const inbound = await startInbound({ host: '127.0.0.1', port: 0, appPort: (app.address() as net.AddressInfo).port, ownId: idB, trustDomain: 'cluster.local', destinationService: 'b', tls: b, registry: newRegistry(), log });
    const out = new Outbound({ host: '127.0.0.1', port: 0, namespace: 'demo', sourceWorkload: 'a', trustDomain: 'cluster.local', tls: a, registry: newRegistry(), log });
    out.setEndpoints(new Map([[gatewaySni('b.demo.svc.cluster.local', 8080), [{ address: '127.0.0.1', port: inbound.port, healthy: true }]]]));
    const port = await out.listen();
    const body = await new Promise<string>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: 'http://b:8080/', agent: false }, (res) => { let s = ''; res.on('data', (d) => (s += d)); res.on('end', () => resolve(s)); }).on('error', reject);
    });
    assert.equal(body, `By=${idB};URI=${idA}`);
    await out.close(); await inbound.close();
  } finally {
    app.close(); await server.stop(); rmSync(dir, { recursive: true, force: true });
  }
});
