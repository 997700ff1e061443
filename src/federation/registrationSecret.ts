// Pure: a registration Secret (docs/CONTRACTS.md) → what the control plane needs to watch that cluster.
import * as k8s from '@kubernetes/client-node';
import { ANNOTATIONS } from './labels.ts';
import { keepAlive } from '../kube/keepAlive.ts';

export interface ParsedRegistration {
  name: string;
  network: string;
  region: string;
  server: string;
  kubeConfig: k8s.KubeConfig;
  /** changes whenever the Secret's content changes (restart the watcher then) */
  fingerprint: string;
}

export type RegistrationResult = { ok: true; reg: ParsedRegistration } | { ok: false; name: string; error: string };

export function parseRegistrationSecret(s: k8s.V1Secret): RegistrationResult {
  const ann = s.metadata?.annotations ?? {};
  const secretName = `${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`;
  const name = ann[ANNOTATIONS.clusterName] ?? s.metadata?.name ?? '';
  const fail = (error: string): RegistrationResult => ({ ok: false, name, error: `registration Secret ${secretName}: ${error}` });
  if (!ann[ANNOTATIONS.clusterName]) return fail(`annotation ${ANNOTATIONS.clusterName} is missing`);
  const raw = s.data?.kubeconfig;
  if (!raw) return fail('data key "kubeconfig" is missing');
  const text = Buffer.from(raw, 'base64').toString('utf8');
  const kc = new k8s.KubeConfig();
  try {
    kc.loadFromString(text);
  } catch (e) {
    return fail(`its kubeconfig does not parse: ${(e as Error).message}; re-run "meshfed cluster add"`);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) return fail('its kubeconfig has no current context/cluster; re-run "meshfed cluster add"');
  try {
    new URL(cluster.server);
  } catch {
    return fail(`its kubeconfig's server "${cluster.server}" is not a URL`);
  }
  return {
    ok: true,
    reg: {
      name, server: cluster.server,
      network: ann[ANNOTATIONS.network] ?? '',
      region: ann[ANNOTATIONS.region] ?? '',
      kubeConfig: keepAlive(kc),
      fingerprint: `${raw}|${ann[ANNOTATIONS.network] ?? ''}|${ann[ANNOTATIONS.region] ?? ''}`,
    },
  };
}
