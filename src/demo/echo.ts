// The demo workload: an HTTP echo server that says who answered (cluster, region, zone, pod) and who called
// (the caller identity the sidecar passes in x-forwarded-client-cert). Used by the playground and the kind demo.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EchoIdentity {
  cluster: string;
  region?: string;
  zone?: string;
  pod?: string;
}

export interface EchoReply extends EchoIdentity {
  method: string;
  path: string;
  /** the caller's SPIFFE URI from x-forwarded-client-cert, when a sidecar terminated mTLS */
  caller?: string;
  requestId?: string;
  traceparent?: string;
}

/** `By=…;Hash=…;URI=spiffe://…` (possibly several elements, comma-separated) → the last URI. */
export function callerFromXfcc(xfcc: string | undefined): string | undefined {
  if (!xfcc) return undefined;
  const last = xfcc.split(',').pop()!;
  const m = /(?:^|;)URI=([^;]+)/.exec(last);
  return m ? m[1] : undefined;
}

export function startEcho(id: EchoIdentity, listen: { host: string; port: number }): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
        return;
      }
      const reply: EchoReply = {
        ...id,
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        ...(callerFromXfcc(req.headers['x-forwarded-client-cert'] as string | undefined) ? { caller: callerFromXfcc(req.headers['x-forwarded-client-cert'] as string) } : {}),
        ...(req.headers['x-request-id'] ? { requestId: String(req.headers['x-request-id']) } : {}),
        ...(req.headers.traceparent ? { traceparent: String(req.headers.traceparent) } : {}),
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply) + '\n');
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve(server));
  });
}

export function echoAddress(server: Server): string {
  const a = server.address() as AddressInfo;
  return `${a.address}:${a.port}`;
}
