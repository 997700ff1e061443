// --kubeconfig / --context flags → a KubeConfig, or one UserError line naming what to fix.
import * as k8s from '@kubernetes/client-node';
import { UserError } from './command.ts';

export function loadKubeConfigFlag(file: string | undefined, context: string | undefined, what = 'kubeconfig'): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  try {
    if (file) kc.loadFromFile(file);
    else kc.loadFromDefault();
  } catch (e) {
    throw new UserError(`cannot load ${what} ${file ?? '(default: $KUBECONFIG or ~/.kube/config)'}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (context) {
    if (!kc.getContextObject(context)) throw new UserError(`context "${context}" is not in ${file ?? `the ${what}`} (contexts: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`);
    kc.setCurrentContext(context);
  }
  if (!kc.getCurrentCluster()) throw new UserError(`${what} ${file ?? '(default)'} has no current cluster: pass --context`);
  return kc;
}
