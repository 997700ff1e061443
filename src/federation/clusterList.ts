// Pure: `meshfed cluster list` rows from the registration Secrets (what is registered) and, when the control plane
// answers, its live cluster state (what is happening).
import type * as k8s from '@kubernetes/client-node';
import type { ClusterStatus } from '../mesh/types.ts';
import { ANNOTATIONS } from './labels.ts';
import { parseRegistrationSecret } from './registrationSecret.ts';

export interface ClusterRow {
  name: string;
  server: string;
  network: string;
  region: string;
  state: string;
  services: string;
  endpoints: string;
  lastSync: string;
  reason: string;
}

function age(iso: string | undefined, now: number): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}

/** `live` undefined: the control plane did not answer (`why` says where it was asked). */
export function clusterRows(secrets: readonly k8s.V1Secret[], live: readonly ClusterStatus[] | undefined, why: string, now = Date.now()): ClusterRow[] {
  const rows = new Map<string, ClusterRow>();
  for (const s of secrets) {
    const r = parseRegistrationSecret(s);
    const ann = s.metadata?.annotations ?? {};
    const name = r.ok ? r.reg.name : r.name;
    rows.set(name, {
      name, server: r.ok ? r.reg.server : '?', network: ann[ANNOTATIONS.network] ?? '', region: ann[ANNOTATIONS.region] ?? '',
      state: live ? 'not watched' : `unknown (${why})`, services: '-', endpoints: '-', lastSync: '-', reason: r.ok ? '' : r.error,
    });
  }
  for (const c of live ?? []) {
    const since = c.state === 'connected' ? '' : ` since ${c.since}`;
    rows.set(c.name, {
      name: c.name, server: c.server || rows.get(c.name)?.server || '', network: c.network, region: c.region,
      state: `${c.state}${since}`, services: String(c.services), endpoints: String(c.endpoints), lastSync: age(c.lastSync, now), reason: c.reason ?? '',
    });
  }
  return [...rows.values()].sort((a, b) => a.name.localeCompare(b.name));
}
