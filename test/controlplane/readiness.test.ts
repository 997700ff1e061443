// Readiness means "serving a complete snapshot": a replica whose member watches have synced is not ready until the
// snapshot it serves (to pilot, to proxies) reflects them — a rolling update must not send proxies to a replica
// that would answer with an empty or partial mesh.
import { standinTls } from '../../src/playground/standinTls.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startApiServer } from '../../src/devcluster/index.ts';
import { adminKubeConfig } from '../../src/devcluster/clientConfig.ts';
import { Federation } from '../../src/federation/federation.ts';
import { EventBus } from '../../src/observe/events.ts';
import { newRegistry } from '../../src/observe/metrics.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('federation readiness waits for the served snapshot, not only for the watches', { timeout: 60_000 }, async () => {
  const server = await startApiServer({ name: 'ready-a', tls: standinTls('ready-a') });
  // a long coalescing window: the watch syncs long before the first snapshot is built
  const fed = new Federation({ kubeConfig: adminKubeConfig(server), local: { name: 'a', network: 'n1', region: 'r1' }, registry: newRegistry(), events: new EventBus(), coalesceMs: 8000, replicate: false });
  try {
    await fed.start();
    for (const end = Date.now() + 30_000; fed.ready().reasons.some((r) => /has not synced/.test(r)); await sleep(20)) assert.ok(Date.now() < end, 'the watch never synced');
    assert.equal(fed.snapshot().clusters.length, 0, 'the snapshot was built before the coalescing window ended');
    assert.deepEqual(fed.ready(), { ready: false, reasons: ['the served snapshot does not include cluster a yet'] });
    for (const end = Date.now() + 30_000; !fed.ready().ready; await sleep(20)) assert.ok(Date.now() < end, `never ready: ${fed.ready().reasons.join('; ')}`);
    assert.equal(fed.snapshot().clusters.find((c) => c.name === 'a')?.state, 'connected');
  } finally {
    await fed.stop();
    await server.close();
  }
});
