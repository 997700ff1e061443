// Two member clusters for control-plane process tests: a (region r1, zone r1a, network n1), where the control plane
// keeps its configuration, and b (r2, r2a, n2), registered in a with `meshfed cluster add` as a user does it.
// Their kubeconfigs are dir/a.kubeconfig and dir/b.kubeconfig.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTopologyCluster } from '../../src/playground/clusters.ts';
import { kubeconfigFor } from '../../src/devcluster/server.ts';
import type { SecureServer } from '../../src/devcluster/secure.ts';
import { meshfed } from './meshfed.ts';

export interface RegisteredClusters { a: SecureServer; b: SecureServer; aFile: string; bFile: string }

/** Starts a and b (pod CIDRs 127.<octet>.0.0/16 and 127.<octet + 1>.0.0/16, service CIDRs 10.…) and registers b in a. */
export async function startRegisteredClusters(dir: string, octet: number): Promise<RegisteredClusters> {
  const [a, b] = await Promise.all([
    startTopologyCluster({ name: 'a', region: 'r1', zones: ['r1a'], network: 'n1', podCIDR: `127.${octet}.0.0/16`, serviceCIDR: `10.${octet}.0.0/16` }),
    startTopologyCluster({ name: 'b', region: 'r2', zones: ['r2a'], network: 'n2', podCIDR: `127.${octet + 1}.0.0/16`, serviceCIDR: `10.${octet + 1}.0.0/16` }),
  ]);
  const aFile = join(dir, 'a.kubeconfig');
  const bFile = join(dir, 'b.kubeconfig');
  writeFileSync(aFile, kubeconfigFor([a]));
  writeFileSync(bFile, kubeconfigFor([b]));
  const add = await meshfed(['cluster', 'add', '--kubeconfig', bFile, '--config-kubeconfig', aFile]);
  assert.equal(add.code, 0, `meshfed cluster add: ${add.stderr}`);
  return { a, b, aFile, bFile };
}
