// The shared TLS server (port 15012 as istiod: CA and mTLS xDS on one gRPC server): a caller without a certificate
// gets one; a caller with an issued certificate presents it and the server sees it; the serving certificate is
// renewed without a restart and a new connection sees the new serial while the old channel keeps working.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import * as tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { initCa, loadSigningCa } from '../../src/ca/files.ts';
import { CaServer } from '../../src/ca/server.ts';
import { servingCredentials } from '../../src/ca/serving.ts';
import { requestCertificate } from '../../src/ca/client.ts';
import { buildCsr } from '../../src/ca/csr.ts';
import { generateKey, keyToPem } from '../../src/ca/x509.ts';

const ID = 'spiffe://cluster.local/ns/shop/sa/cart';
const raw = (b: Buffer): Buffer => b;
// a second service on the same server standing in for pilot's ADS: reports the peer certificate it was shown
const whoDef: grpc.ServiceDefinition = {
  Who: { path: '/test.Who/Who', requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw, originalName: 'Who' },
};

function peerSerial(port: number, root: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: root, ALPNProtocols: ['h2'] }, () => {
      const serial = s.getPeerCertificate().serialNumber;
      s.destroy();
      resolve(serial);
    });
    s.on('error', reject);
  });
}

test('shared server: CA for callers without a cert, peer cert seen by a co-hosted service, serving cert renewed live', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ca-serving-'));
  initCa({ out: dir, clusters: ['east'] });
  const ca = await loadSigningCa({ dir: join(dir, 'east'), trustDomain: 'cluster.local' });
  const root = ca.roots.join('');
  const renewals: string[] = [];
  // 4 s lifetime, backdated a minute: past half-life at once, so it renews every second (the 1 s floor)
  const serving = servingCredentials({ signer: ca.signer, roots: ca.roots, dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], requestClientCert: true, validitySeconds: 4, onRenew: (s) => renewals.push(s) });
  const server = new grpc.Server();
  new CaServer({ signer: ca.signer, reviewer: { async review() { return { namespace: 'shop', serviceAccount: 'cart' }; } }, trustDomain: 'cluster.local', registry: new Registry() }).addTo(server);
  server.addService(whoDef, {
    Who: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const peer = call.getAuthContext()?.sslPeerCertificate;
      cb(null, Buffer.from(JSON.stringify({ san: peer?.subjectaltname ?? null })));
    },
  });
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', serving.credentials, (e, p) => (e ? rej(e) : res(p))));
  const clients: grpc.Client[] = [];
  t.after(async () => {
    for (const c of clients) c.close();
    serving.close();
    await new Promise<void>((r) => server.tryShutdown(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });
  await new Promise((r) => setTimeout(r, 50)); // the provider hands its certificate over asynchronously

  // 1. no client certificate: the CA still answers (requested, not required)
  const key = generateKey();
  const chain = await requestCertificate({ address: `localhost:${port}`, caCertPem: root, token: 't', cluster: 'east', csrPem: buildCsr(key, [ID]), deadlineMs: 20_000 });
  assert.equal(new X509Certificate(chain[0]).subjectAltName, `URI:${ID}`);

  // 2. with the issued certificate: the co-hosted service sees it in the handshake; without one it sees none
  const Who = grpc.makeGenericClientConstructor(whoDef, 'Who');
  const ask = (c: grpc.Client): Promise<{ san: string | null }> => new Promise((res, rej) =>
    (c as unknown as { Who: (b: Buffer, o: grpc.CallOptions, cb: (e: Error | null, r?: Buffer) => void) => void }).Who(Buffer.alloc(0), { deadline: Date.now() + 20_000 }, (e, r) => (e ? rej(e) : res(JSON.parse(String(r))))));
  const withCert = new Who(`localhost:${port}`, grpc.credentials.createSsl(Buffer.from(root), Buffer.from(keyToPem(key.privateKey)), Buffer.from(chain.slice(0, -1).join(''))));
  const without = new Who(`localhost:${port}`, grpc.credentials.createSsl(Buffer.from(root)));
  clients.push(withCert, without);
  assert.deepEqual(await ask(withCert), { san: `URI:${ID}` });
  assert.deepEqual(await ask(without), { san: null });

  // 3. renewal: a new connection sees a new serial; the old channel keeps working
  const first = await peerSerial(port, root);
  assert.ok(renewals.map((s) => s.toUpperCase()).includes(first.toUpperCase()), 'the serial served is one the provider issued');
  const deadline = Date.now() + 20_000;
  let next = first;
  while (next === first && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 300));
    next = await peerSerial(port, root);
  }
  assert.notEqual(next, first, 'serving certificate renewed within 20 s');
  assert.ok(renewals.length >= 2);
  assert.deepEqual(await ask(withCert), { san: `URI:${ID}` }, 'existing channel still served after renewal');
  assert.equal((await requestCertificate({ address: `localhost:${port}`, caCertPem: root, token: 't', cluster: 'east', csrPem: buildCsr(generateKey(), [ID]), deadlineMs: 20_000 })).length, chain.length);
});
