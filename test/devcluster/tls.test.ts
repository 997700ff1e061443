// The stand-in serves the TLS its caller gives it (it has no PKI of its own); the playground's material, from the
// mesh CA's certificate builder, is trusted by a client for the address the stand-in listens on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { startApiServer, type ApiServerOptions } from '../../src/devcluster/index.ts';
import { standinTls } from '../../src/playground/standinTls.ts';
import { KUBECTL, run } from '../helpers/kubectl.ts';
import { writeKubeconfig } from '../../src/devcluster/kubeconfigFile.ts';

/** The certificate a TLS client is shown at host:port, verified against `ca` for `servername`. */
function servedCert(host: string, port: number, ca: string, servername?: string): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, ca, ...(servername ? { servername } : {}) }, () => {
      const c = s.getPeerX509Certificate();
      s.end();
      if (c) resolve(c); else reject(new Error('no peer certificate'));
    });
    s.on('error', reject);
  });
}

test('without TLS material the stand-in refuses to start and says what to pass', async () => {
  await assert.rejects(startApiServer({ name: 'bare' } as ApiServerOptions), /cluster "bare": tls \{cert, key, ca\} PEMs are required/);
});

test('the stand-in serves exactly the certificate it was given; clients verify it by the given CA at its own address; kubectl 1.20 and 1.32 accept it', async () => {
  const tls = standinTls('given', '127.0.0.9');
  const server = await startApiServer({ name: 'given', host: '127.0.0.9', tls });
  try {
    assert.equal(server.ca, tls.ca);
    const got = await servedCert('127.0.0.9', server.port, tls.ca);
    assert.equal(got.fingerprint256, new X509Certificate(tls.cert).fingerprint256);
    assert.ok(got.checkIssued(new X509Certificate(tls.ca)), 'signed by the given CA');
    assert.match(got.subjectAltName ?? '', /DNS:localhost/);
    assert.match(got.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
    assert.match(got.subjectAltName ?? '', /IP Address:127\.0\.0\.9/);
    // another CA's clients do not trust it
    await assert.rejects(servedCert('127.0.0.9', server.port, standinTls('other').ca), /self[- ]signed|unable to verify|certificate/i);
    // kubectl 1.20 and 1.32 (Go TLS) accept it at the address in the kubeconfig
    const dir = mkdtempSync(join(tmpdir(), 'meshfed-tls-'));
    writeKubeconfig(join(dir, 'kc'), [server]);
    for (const bin of [KUBECTL, '/usr/bin/kubectl']) {
      const r = await run(bin, ['--kubeconfig', join(dir, 'kc'), 'get', 'ns', 'default', '-o', 'name']);
      assert.equal(r.stdout.trim(), 'namespace/default', `${bin}: ${r.stderr}`);
    }
  } finally {
    await server.close();
  }
});
