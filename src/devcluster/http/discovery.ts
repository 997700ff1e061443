// Discovery documents: /version, /api, /api/v1, /apis, /apis/<g>, /apis/<g>/<v>.
import type { ResourceInfo } from '../types.ts';
import type { ResourceTable } from '../resources.ts';
import { SUBRESOURCE_KINDS } from './subresources.ts';

const ADDR = [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }];

export function versionInfo() {
  return {
    // the API the stand-in follows: kubectl 1.31–1.33 do not warn about version skew; 1.20 never did
    major: '1', minor: '32', gitVersion: 'v1.32.0-meshfed', gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean', buildDate: '2026-01-01T00:00:00Z', goVersion: 'go1.23.4', compiler: 'gc', platform: 'linux/amd64',
  };
}

export const coreVersions = () => ({ kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: ADDR });

function groupDoc(name: string, versions: string[]) {
  const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: vs, preferredVersion: vs[0] };
}

export function apiGroupList(table: ResourceTable) {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [...table.groups()].map(([g, vs]) => groupDoc(g, vs)) };
}

export function apiGroup(table: ResourceTable, group: string) {
  const vs = table.groups().get(group);
  return vs ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(group, vs) } : undefined;
}

export function resourceList(table: ResourceTable, group: string, version: string) {
  const infos = table.all().filter((i) => i.group === group && i.version === version);
  if (!infos.length) return undefined;
  const resources: object[] = [];
  for (const i of infos) {
    resources.push(entry(i));
    for (const s of i.subresources ?? []) {
      const k = SUBRESOURCE_KINDS[s] ?? SUBRESOURCE_KINDS.status;
      resources.push({ name: `${i.plural}/${s}`, singularName: '', namespaced: i.namespaced, ...(k.group !== undefined ? { group: k.group, version: k.version } : {}), kind: k.kind ?? i.kind, verbs: k.verbs });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

function entry(i: ResourceInfo) {
  const e: Record<string, unknown> = { name: i.plural, singularName: i.singular, namespaced: i.namespaced, kind: i.kind, verbs: i.verbs };
  if (i.shortNames.length) e.shortNames = i.shortNames;
  if (i.categories.length) e.categories = i.categories;
  return e;
}
