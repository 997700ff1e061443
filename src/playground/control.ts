// The running playground's control endpoint (127.0.0.1 only): `meshfed dev failover|restore|call|kill-leader` talk to it.
//   POST /failover?region=R   POST /restore?region=R   POST /call {from, target, request: {method, headers, body}}   POST /kill-leader
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MeshPlayground } from './mesh.ts';
import type { CallRequest } from './call.ts';
import { readBody } from '../devcluster/http/body.ts';

/** The body of POST /call: which cluster's sleep pod calls what (SERVICE[:PORT][/PATH] or an http:// URL). */
export interface ControlCall { from?: string; target?: string; request?: CallRequest }

export interface ControlServer { url: string; close(): Promise<void> }

export async function startControlServer(pg: MeshPlayground): Promise<ControlServer> {
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://control');
    const reply = (code: number, body: unknown): void => { res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body) + '\n'); };
    const run = async (): Promise<void> => {
      const region = u.searchParams.get('region') ?? '';
      if (req.method === 'POST' && u.pathname === '/failover') {
        if (pg.failed.has(region)) return reply(409, { error: `region ${region} is already down (restore it with: meshfed dev restore --region ${region})` });
        const t0 = Date.now();
        await pg.failRegion(region);
        return reply(200, { region, down: true, ms: Date.now() - t0 });
      }
      if (req.method === 'POST' && u.pathname === '/restore') {
        if (!pg.failed.has(region)) return reply(409, { error: `region ${region} is not down` });
        const t0 = Date.now();
        await pg.restoreRegion(region);
        return reply(200, { region, down: false, ms: Date.now() - t0 });
      }
      if (req.method === 'POST' && u.pathname === '/kill-leader') {
        const lease = pg.controlPlanes.leader()?.elector?.status().leaseDurationSeconds;
        const k = await pg.controlPlanes.killLeader();
        const others = pg.controlPlanes.all().map((c) => ({ replica: c.elector!.identity, admin: `127.0.0.1:${c.ports.admin}` }));
        return reply(200, { ...k, leaseDurationSeconds: lease, others });
      }
      if (req.method === 'POST' && u.pathname === '/call') {
        const text = (await readBody(req)).toString('utf8');
        const c = (text ? JSON.parse(text) : {}) as ControlCall;
        return reply(200, await pg.call(c.from ?? pg.topology.clusters[0]!.name, c.target ?? 'echo', c.request));
      }
      reply(404, { error: `unknown control request ${req.method} ${u.pathname}` });
    };
    run().catch((e: unknown) => reply(400, { error: (e as Error).message }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** Client side: one request to a running playground; a refused connection means it is gone. */
export async function controlRequest(base: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  let res: Response;
  try {
    res = await fetch(base + path, { method, signal: AbortSignal.timeout(60_000), ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) });
  } catch (e) {
    throw new Error(`the playground's control endpoint ${base} does not answer (${(e as Error).cause ? String((e as { cause: Error }).cause.message) : (e as Error).message}); is "meshfed dev up" still running?`);
  }
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
