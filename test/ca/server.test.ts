import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import * as tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { initCa, loadCaDir } from '../../src/ca/files.ts';
import { Signer } from '../../src/ca/signer.ts';
import { CaServer } from '../../src/ca/server.ts';
import { requestCertificate, CaRequestError } from '../../src/ca/client.ts';
import { buildCsr } from '../../src/ca/csr.ts';
import { generateKey, keyToPem } from '../../src/ca/x509.ts';
import type { TokenReviewer } from '../../src/ca/reviewer.ts';

const TD = 'cluster.local';
const tokens: Record<string, { namespace: string; serviceAccount: string }> = { 'good-a': { namespace: 'shop', serviceAccount: 'cart' }, 'good-b': { namespace: 'shop', serviceAccount: 'pay' } };
const fakeReviewer: TokenReviewer = {
  async review(cluster, token) {
    if (cluster !== 'east') return { reason: `unknown cluster "${cluster}"` };
    return tokens[token] ?? { reason: 'token rejected' };
  },
};

// Every behaviour twice: signing in the gRPC thread and on a signing worker (src/ca/pool.ts).
for (const signingWorkers of [0, 1]) describe(`CA server, signing workers: ${signingWorkers}`, () => {
  let dir: string; let server: CaServer; let address: string; let root: string; let registry: Registry;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ca-srv-'));
    initCa({ out: dir, clusters: ['east'] });
    root = loadCaDir(join(dir, 'east')).rootCertPem;
    registry = new Registry();
    server = new CaServer({ signer: new Signer(loadCaDir(join(dir, 'east'))), reviewer: fakeReviewer, trustDomain: TD, registry, dnsNames: ['localhost'], signingWorkers });
    address = `localhost:${await server.start(0, '127.0.0.1')}`;
  });
  after(async () => { await server.stop(); rmSync(dir, { recursive: true, force: true }); });

  const id = (sa: string): string => `spiffe://${TD}/ns/shop/sa/${sa}`;
  async function issue(token: string, sa: string, key = generateKey()): Promise<{ chain: string[]; keyPem: string }> {
    const chain = await requestCertificate({ address, caCertPem: root, token, cluster: 'east', csrPem: buildCsr(key, [id(sa)]), validitySeconds: 3600 });
    return { chain, keyPem: keyToPem(key.privateKey) };
  }
  async function code(p: Promise<unknown>): Promise<grpc.status> {
    try { await p; return grpc.status.OK; } catch (e) { assert.ok(e instanceof CaRequestError, String(e)); return e.code; }
  }

  test('valid token → chain that openssl -x509_strict verifies, SPIFFE URI SAN, 1 h validity', async () => {
    const { chain } = await issue('good-a', 'cart');
    assert.equal(chain.length, 3, 'leaf, intermediate, root');
    const leaf = new X509Certificate(chain[0]);
    assert.equal(leaf.subjectAltName, `URI:${id('cart')}`);
    assert.equal(leaf.ca, false);
    assert.ok(leaf.verify(new X509Certificate(chain[1]).publicKey));
    const hours = (Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)) / 3600_000;
    assert.ok(hours > 1 && hours < 1.05, `validity ${hours} h (1 h + 1 min backdate)`);
    assert.equal(chain[2].trim(), root.trim());
    const f = (n: string, s: string): string => { const p = join(dir, n); writeFileSync(p, s); return p; };
    const out = execFileSync('openssl', ['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', f('r.pem', root), '-untrusted', f('i.pem', chain[1]), f('l.pem', chain[0])]).toString();
    assert.match(out, /OK/);
  });

  test('two issued certificates complete a mutual node:tls handshake and see each other\'s SPIFFE IDs', async () => {
    const a = await issue('good-a', 'cart');
    const b = await issue('good-b', 'pay');
    let serverSaw = '';
    const srv = tls.createServer({ key: a.keyPem, cert: a.chain.slice(0, 2).join(''), ca: root, requestCert: true, rejectUnauthorized: true }, (s) => {
      serverSaw = s.getPeerCertificate().subjectaltname ?? '';
      s.end('hi');
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    const clientSaw = await new Promise<string>((res, rej) => {
      const c = tls.connect({ host: '127.0.0.1', port, key: b.keyPem, cert: b.chain.slice(0, 2).join(''), ca: root, checkServerIdentity: () => undefined }, () => {
        res(c.getPeerCertificate().subjectaltname ?? '');
      });
      c.on('error', rej);
      c.on('data', () => c.end());
    });
    await new Promise((r) => setTimeout(r, 50));
    srv.close();
    assert.equal(clientSaw, `URI:${id('cart')}`);
    assert.equal(serverSaw, `URI:${id('pay')}`);
  });

  test('bad inputs get the right gRPC status and the CA keeps serving', async () => {
    const key = generateKey();
    const csr = buildCsr(key, [id('cart')]);
    const base = { address, caCertPem: root, cluster: 'east', csrPem: csr };
    assert.equal(await code(requestCertificate({ ...base, token: 'forged.jwt.x' })), grpc.status.UNAUTHENTICATED, 'forged token');
    assert.equal(await code(requestCertificate({ ...base, token: '' })), grpc.status.UNAUTHENTICATED, 'missing token');
    assert.equal(await code(requestCertificate({ ...base, token: 'good-a', cluster: 'nowhere' })), grpc.status.UNAUTHENTICATED, 'unknown cluster');
    assert.equal(await code(requestCertificate({ ...base, token: 'good-b' })), grpc.status.PERMISSION_DENIED, 'CSR for another identity');
    assert.equal(await code(requestCertificate({ ...base, token: 'good-a', csrPem: 'garbage' })), grpc.status.INVALID_ARGUMENT, 'garbage CSR');
    const tampered = csr.replace(/-----BEGIN CERTIFICATE REQUEST-----\n(.{20})(.)/, (_m, a: string, c: string) => `-----BEGIN CERTIFICATE REQUEST-----\n${a}${c === 'A' ? 'B' : 'A'}`);
    assert.equal(await code(requestCertificate({ ...base, token: 'good-a', csrPem: tampered })), grpc.status.INVALID_ARGUMENT, 'bad self-signature / mangled DER');
    const dsa = generateKeyPairSync('ed25519');
    assert.equal(await code(requestCertificate({ ...base, token: 'good-a', csrPem: buildCsrUnchecked(dsa) })), grpc.status.INVALID_ARGUMENT, 'ed25519 key not accepted');
    const big = await code(requestCertificate({ ...base, token: 'good-a', csrPem: 'x'.repeat(200_000) }));
    assert.ok(big === grpc.status.RESOURCE_EXHAUSTED || big === grpc.status.INVALID_ARGUMENT, `oversized → ${big}`);
    const { chain } = await issue('good-a', 'cart');
    assert.equal(chain.length, 3, 'still serving');
    const metrics = await registry.metrics();
    assert.match(metrics, /meshfed_ca_errors_total\{reason="token"\} 2/);
    assert.match(metrics, /meshfed_ca_errors_total\{reason="identity"\} 1/);
    assert.match(metrics, /meshfed_ca_certificates_issued_total [1-9]/);
  });

  test('openssl-made RSA-2048 CSR is accepted, RSA-1024 is rejected', async () => {
    const mk = (bits: number): string => {
      const k = join(dir, `k${bits}.pem`);
      execFileSync('openssl', ['genrsa', '-out', k, String(bits)], { stdio: 'ignore' });
      return execFileSync('openssl', ['req', '-new', '-key', k, '-subj', '/', '-addext', `subjectAltName=URI:${id('cart')}`]).toString();
    };
    const ok = await requestCertificate({ address, caCertPem: root, token: 'good-a', cluster: 'east', csrPem: mk(2048) });
    assert.equal(new X509Certificate(ok[0]).publicKey.asymmetricKeyDetails?.modulusLength, 2048);
    assert.equal(await code(requestCertificate({ address, caCertPem: root, token: 'good-a', cluster: 'east', csrPem: mk(1024) })), grpc.status.INVALID_ARGUMENT);
  });
});

// An Ed25519 CSR built by hand (buildCsr only signs EC/RSA): the CA must reject the key type.
import * as der from '../../src/ca/der.ts';
import { sign, type KeyObject } from 'node:crypto';
function buildCsrUnchecked(k: { privateKey: KeyObject; publicKey: KeyObject }): string {
  const info = der.seq(der.int(0), der.seq(), k.publicKey.export({ type: 'spki', format: 'der' }), der.ctx(0, Buffer.alloc(0)));
  return der.derToPem(der.seq(info, der.seq(der.oid('1.3.101.112')), der.bits(sign(null, info, k.privateKey))), 'CERTIFICATE REQUEST');
}
