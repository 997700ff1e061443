// Signing pool: the worker gives the same answers as the gRPC thread, survives a dead worker, closes cleanly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import * as grpc from '@grpc/grpc-js';
import { initCa, loadCaDir } from '../../src/ca/files.ts';
import { Signer } from '../../src/ca/signer.ts';
import { SigningPool } from '../../src/ca/pool.ts';
import { issueForCaller, type IssueOutcome } from '../../src/ca/issue.ts';
import { buildCsr } from '../../src/ca/csr.ts';
import { generateKey } from '../../src/ca/x509.ts';

const me = 'spiffe://cluster.local/ns/shop/sa/cart';
let dir: string; let signer: Signer;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-pool-'));
  initCa({ out: dir, clusters: ['east'] });
  signer = new Signer(loadCaDir(join(dir, 'east')), 3600);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const leafOf = (o: IssueOutcome): X509Certificate => {
  assert.ok(o.ok, `expected a certificate, got ${JSON.stringify(o)}`);
  return new X509Certificate(o.leafPem);
};
const workerOf = (p: SigningPool): Worker | undefined => (p as unknown as { slots: Array<{ worker?: Worker }> }).slots[0].worker;

test('pool and gRPC thread give the same answers: certificate, bad CSR, other identity, capped validity', async () => {
  const pool = new SigningPool(signer, 2);
  try {
    const csr = buildCsr(generateKey(), [me]);
    const cases = [
      { csrPem: csr, expectedUri: me, validitySeconds: 0 },
      { csrPem: 'garbage', expectedUri: me, validitySeconds: 0 },
      { csrPem: csr, expectedUri: 'spiffe://cluster.local/ns/shop/sa/pay', validitySeconds: 0 },
    ];
    for (const c of cases) {
      const [viaPool, local] = [await pool.issue(c), issueForCaller(signer, c)];
      if (local.ok) {
        const a = leafOf(viaPool); const b = leafOf(local);
        assert.equal(a.subjectAltName, `URI:${me}`);
        assert.ok(a.verify(new X509Certificate(signer.chainPems[0]).publicKey), 'signed by the intermediate');
        assert.notEqual(a.serialNumber, b.serialNumber);
        const hours = (Date.parse(a.validTo) - Date.parse(a.validFrom)) / 3600_000;
        assert.ok(hours > 1 && hours < 1.05, `default 24 h capped to the signer's 1 h max, got ${hours} h`);
      } else {
        assert.ok(!viaPool.ok);
        assert.deepEqual({ code: viaPool.code, reason: viaPool.reason, message: viaPool.message }, { code: local.code, reason: local.reason, message: local.message });
      }
    }
    assert.equal((await pool.issue(cases[1])).ok === false && (await pool.issue(cases[1]) as { code: number }).code, grpc.status.INVALID_ARGUMENT);
    assert.equal((await pool.issue(cases[2]) as { code: number }).code, grpc.status.PERMISSION_DENIED);
    // 200 concurrent requests over 2 workers: every one answered with its own certificate
    const many = await Promise.all(Array.from({ length: 200 }, () => pool.issue(cases[0])));
    assert.equal(new Set(many.map((o) => leafOf(o).serialNumber)).size, 200);
  } finally {
    await pool.close();
  }
});

test('a dead worker fails its requests with INTERNAL and the next request gets a fresh worker', async () => {
  const pool = new SigningPool(signer, 1);
  try {
    assert.equal(workerOf(pool), undefined, 'workers start on first use or start()');
    pool.start();
    const w = workerOf(pool);
    assert.ok(w, 'start() boots the worker before any request');
    const req = { csrPem: buildCsr(generateKey(), [me]), expectedUri: me, validitySeconds: 60 };
    leafOf(await pool.issue(req));
    assert.equal(workerOf(pool), w, 'the started worker serves');
    const pending = Array.from({ length: 20 }, () => pool.issue(req));
    await w.terminate();
    const outs = await Promise.all(pending);
    // some may have been answered before the worker died; the rest must fail, not hang
    for (const o of outs) if (!o.ok) assert.equal(o.code, grpc.status.INTERNAL);
    assert.ok(outs.some((o) => !o.ok), 'requests queued for the terminated worker fail');
    leafOf(await pool.issue(req));
    assert.notEqual(workerOf(pool), w, 'a new worker');
  } finally {
    await pool.close();
  }
  const closed = await pool.issue({ csrPem: 'x', expectedUri: me, validitySeconds: 0 });
  assert.ok(!closed.ok && closed.code === grpc.status.INTERNAL && /closed/.test(closed.message));
});

test('the worker boots under the CLI loader (tsx register(), no --import flag) and the process exits when idle', () => {
  const script = `
    import { register } from 'tsx/esm/api'; register();
    const { initCa, loadCaDir } = await import('./src/ca/files.ts');
    const { Signer } = await import('./src/ca/signer.ts');
    const { SigningPool } = await import('./src/ca/pool.ts');
    const { buildCsr } = await import('./src/ca/csr.ts');
    const { generateKey } = await import('./src/ca/x509.ts');
    initCa({ out: ${JSON.stringify(join(dir, 'cli'))}, clusters: ['east'] });
    const pool = new SigningPool(new Signer(loadCaDir(${JSON.stringify(join(dir, 'cli', 'east'))})));
    const o = await pool.issue({ csrPem: buildCsr(generateKey(), ['${me}']), expectedUri: '${me}', validitySeconds: 0 });
    console.log(o.ok ? 'issued' : o.message);`; // no close(): an idle pool must not keep the process alive
  const file = join(process.cwd(), `.pool-boot-${process.pid}.mjs`); // in the repo, so 'tsx' resolves
  writeFileSync(file, script);
  try {
    const out = execFileSync(process.execPath, [file], { timeout: 20_000, env: { ...process.env, NODE_OPTIONS: '' } }).toString();
    assert.match(out, /^issued$/m);
  } finally {
    rmSync(file, { force: true });
  }
});
