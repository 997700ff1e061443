// A client-node KubeConfig with the admin credentials of stand-in servers (tests, benches, the playground).
import * as k8s from '@kubernetes/client-node';
import { kubeconfigFor, type ApiServer } from './server.ts';

export function adminKubeConfig(server: Pick<ApiServer, 'name' | 'url' | 'ca' | 'adminToken'>): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(kubeconfigFor([server]));
  return kc;
}
