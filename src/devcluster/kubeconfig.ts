// Kubeconfig files for stand-in clusters, written as kind does: merged into an existing file (contexts, clusters
// and users of other names are kept, the stand-ins' entries are replaced), as YAML, mode 0600.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';

export interface KubeconfigServer { name: string; url: string; ca: string; adminToken: string }
interface Named { name: string; [k: string]: unknown }
interface Kubeconfig { apiVersion?: string; kind?: string; preferences?: unknown; clusters?: Named[]; users?: Named[]; contexts?: Named[]; 'current-context'?: string; [k: string]: unknown }

/** Pure: `existing` (YAML or JSON text, or undefined) with the entries of `servers` added or replaced. */
export function mergeKubeconfig(existing: string | undefined, servers: KubeconfigServer[], current?: string): string {
  let cfg: Kubeconfig = {};
  if (existing?.trim()) {
    const parsed = parseYaml(existing) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the existing kubeconfig is not a YAML mapping; move it away or choose another file');
    cfg = parsed as Kubeconfig;
  }
  const put = (list: Named[] | undefined, entries: Named[]): Named[] => {
    const names = new Set(entries.map((e) => e.name));
    return [...(list ?? []).filter((e) => !names.has(e?.name)), ...entries];
  };
  cfg.apiVersion ??= 'v1';
  cfg.kind ??= 'Config';
  cfg.preferences ??= {};
  cfg.clusters = put(cfg.clusters, servers.map((s) => ({ name: s.name, cluster: { server: s.url, 'certificate-authority-data': Buffer.from(s.ca).toString('base64') } })));
  cfg.users = put(cfg.users, servers.map((s) => ({ name: `${s.name}-admin`, user: { token: s.adminToken } })));
  cfg.contexts = put(cfg.contexts, servers.map((s) => ({ name: s.name, context: { cluster: s.name, user: `${s.name}-admin`, namespace: 'default' } })));
  cfg['current-context'] = current ?? servers[0]?.name ?? cfg['current-context'] ?? '';
  return toYaml(cfg);
}

/** Write (merge) the kubeconfig of `servers` into `file`. */
export function writeMergedKubeconfig(file: string, servers: KubeconfigServer[], current?: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const existing = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  writeFileSync(file, mergeKubeconfig(existing, servers, current), { mode: 0o600 });
  chmodSync(file, 0o600); // it holds admin tokens, even if the file was readable before
}
