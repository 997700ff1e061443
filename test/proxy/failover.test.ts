// Failover without loss, with the REAL pilot and CA: A calls B continuously; B has endpoints in A's region
// (priority 0, same network) and in r2 behind n2's gateway (priority 1). Local endpoints die (closed), hang
// (black hole) or are marked unready by pilot → no idempotent request fails; restoring brings traffic back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startMeshControl, callVia, until, SVC_PORT, type MeshControl, type MeshedEcho } from './fixtures/mesh.ts';
import type { EchoReply } from '../../src/demo/echo.ts';

interface Sample { at: number; status: number; cluster?: string; err?: string }

/** Concurrent GET loop through A's outbound until stopped or `max` requests (bounded). */
function load(ip: string, port: number, concurrency: number, max: number): { samples: Sample[]; stop(): Promise<void> } {
  const samples: Sample[] = [];
  let stopped = false;
  const worker = async (): Promise<void> => {
    while (!stopped && samples.length < max) {
      try {
        const r = await callVia(ip, port, `http://b.demo:${SVC_PORT}/work`);
        samples.push({ at: Date.now(), status: r.status, ...(r.status === 200 ? { cluster: (JSON.parse(r.body) as EchoReply).cluster } : { err: r.body.slice(0, 200) }) });
      } catch (e) {
        samples.push({ at: Date.now(), status: 0, err: (e as Error).message });
      }
    }
  };
  const running = Promise.all(Array.from({ length: concurrency }, worker));
  return { samples, stop: async () => { stopped = true; await running; } };
}

const firstAfter = (s: Sample[], t: number, cluster: string): Sample | undefined => s.find((x) => x.at >= t && x.cluster === cluster);

async function startLocals(mc: MeshControl, gen: number): Promise<MeshedEcho[]> {
  return [await mc.startMeshedEcho({ name: `b-local-${gen}-0`, ip: `127.0.1.${10 + gen * 2}`, cluster: 'c1', network: 'n1', region: 'r1', serviceAccount: 'b' }),
    await mc.startMeshedEcho({ name: `b-local-${gen}-1`, ip: `127.0.1.${11 + gen * 2}`, cluster: 'c1', network: 'n1', region: 'r1', serviceAccount: 'b' })];
}

function drop(mc: MeshControl, gone: MeshedEcho[]): void {
  mc.workloads.splice(0, mc.workloads.length, ...mc.workloads.filter((w) => !gone.includes(w)));
}

test('outbound fails over to the remote region without losing a request: killed, black-holed, unready; and comes back', { timeout: 120000 }, async () => {
  const mc = await startMeshControl(['c1', 'c2'], { r1: ['r2'], r2: ['r1'] });
  const blackHoles: net.Server[] = [];
  const held: net.Socket[] = [];
  let l: ReturnType<typeof load> | undefined;
  try {
    await mc.startGateway('n1', 'r1', 'c1', '127.0.1.254');
    const gw2 = await mc.startGateway('n2', 'r2', 'c2', '127.0.2.254');
    const a = await mc.startMeshedEcho({ name: 'a-0', ip: '127.0.1.1', cluster: 'c1', network: 'n1', region: 'r1', serviceAccount: 'a' });
    await mc.startMeshedEcho({ name: 'b-remote-0', ip: '127.0.2.10', cluster: 'c2', network: 'n2', region: 'r2', serviceAccount: 'b' });
    let locals = await startLocals(mc, 0);
    mc.publish();
    await until('gateway ready', async () => (gw2.gw.ready() ? true : undefined));
    await until('A → B served locally', async () => {
      const x = await callVia(a.w.ip, a.sidecar.outbound, `http://b.demo:${SVC_PORT}/`);
      return x.status === 200 && (JSON.parse(x.body) as EchoReply).cluster === 'c1' ? true : undefined;
    });
    l = load(a.w.ip, a.sidecar.outbound, 4, 3000);
    const s = l.samples;
    const servedAfter = (t: number, cluster: string, n: number) => until(`${n} requests served by ${cluster}`, async () => (s.filter((x) => x.at >= t && x.cluster === cluster).length >= n ? true : undefined), 20000);
    await servedAfter(0, 'c1', 50);
    const figures: Record<string, number> = {};

    // 1. the whole local locality dies (servers and sidecars closed)
    const kill1 = Date.now();
    for (const w of locals) await w.stop();
    await servedAfter(kill1, 'c2', 50);
    figures.killToRemoteMs = firstAfter(s, kill1, 'c2')!.at - kill1;
    // ...and pilot learns later that they are gone; then new local endpoints come up → traffic returns local
    drop(mc, locals);
    locals = await startLocals(mc, 1);
    const restore1 = Date.now();
    mc.publish();
    await servedAfter(restore1, 'c1', 50);
    figures.restoreToLocalMs = firstAfter(s, restore1, 'c1')!.at - restore1;

    // 2. black hole: the local endpoints accept TCP but never answer (paused process)
    const kill2 = Date.now();
    for (const w of locals) {
      await w.stop();
      const bh = net.createServer((sock) => { held.push(sock); sock.on('error', () => {}); });
      await new Promise<void>((r) => bh.listen(w.sidecar.inbound, w.w.ip, r));
      blackHoles.push(bh);
    }
    await servedAfter(kill2, 'c2', 50);
    figures.blackHoleToRemoteMs = firstAfter(s, kill2, 'c2')!.at - kill2;
    drop(mc, locals);
    locals = await startLocals(mc, 2);
    mc.publish();
    const restore2 = Date.now();
    await servedAfter(restore2, 'c1', 50);

    // 3. pilot marks the local endpoints unready (EDS update), then ready again
    for (const w of locals) w.ready = false;
    const unready = Date.now();
    mc.publish();
    await servedAfter(unready, 'c2', 50);
    figures.unreadyToRemoteMs = firstAfter(s, unready, 'c2')!.at - unready;
    for (const w of locals) w.ready = true;
    const ready = Date.now();
    mc.publish();
    await servedAfter(ready, 'c1', 50);
    figures.readyToLocalMs = firstAfter(s, ready, 'c1')!.at - ready;

    await l.stop();
    const failed = s.filter((x) => x.status !== 200);
    console.error(JSON.stringify({ requests: s.length, failed: failed.length, ...figures }));
    assert.ok(s.length >= 300 && s.length <= 3000, `bounded load ran (${s.length})`);
    assert.deepEqual(failed.slice(0, 5), [], `${failed.length} of ${s.length} requests failed`);
    // after the last restore, traffic is local again
    assert.equal(s.slice(-20).filter((x) => x.cluster === 'c1').length, 20);
  } finally {
    await l?.stop();
    for (const sock of held) sock.destroy();
    for (const bh of blackHoles) await new Promise<void>((r) => bh.close(() => r()));
    await mc.stop();
  }
});
