// A stand-in kubeconfig written to a file (owner-only: it holds admin tokens).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { kubeconfigFor, type ApiServer } from './server.ts';

export function writeKubeconfig(file: string, servers: Array<Pick<ApiServer, 'name' | 'url' | 'ca' | 'adminToken'>>, current?: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, kubeconfigFor(servers, current), { mode: 0o600 });
}
