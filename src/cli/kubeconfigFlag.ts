// --kubeconfig / --context flags → a KubeConfig, or one UserError line naming what to fix.
import { readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { parse } from 'yaml';
import { UserError } from './command.ts';

const HOW = 'write one with a cluster, a user and a context, e.g. "kubectl config view --minify --flatten > FILE"';

/** What is wrong with a kubeconfig file's text before client-node reads it (an empty file makes it throw a TypeError). */
export function kubeconfigTextProblem(text: string): string | undefined {
  let doc: unknown;
  try { doc = parse(text); } catch { return undefined; } // client-node reports the YAML error itself
  if (doc === null || doc === undefined) return `is empty: it has no clusters (${HOW})`;
  if (typeof doc !== 'object' || Array.isArray(doc)) return `is not a kubeconfig: expected a YAML mapping with clusters, users and contexts (${HOW})`;
  return undefined;
}

export function loadKubeConfigFlag(file: string | undefined, context: string | undefined, what = 'kubeconfig'): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  const name = file ?? '(default: $KUBECONFIG or ~/.kube/config)';
  try {
    if (file) {
      const problem = kubeconfigTextProblem(readFileSync(file, 'utf8'));
      if (problem) throw new UserError(`${what} ${file} ${problem}`);
      kc.loadFromFile(file);
    } else kc.loadFromDefault();
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`cannot load ${what} ${name}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (file && kc.getClusters().length === 0) throw new UserError(`${what} ${file} has no clusters (${HOW})`);
  if (context) {
    if (!kc.getContextObject(context)) throw new UserError(`context "${context}" is not in ${file ?? `the ${what}`} (contexts: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`);
    kc.setCurrentContext(context);
  }
  if (!kc.getCurrentCluster()) throw new UserError(`${what} ${file ?? '(default)'} has no current cluster: pass --context`);
  return kc;
}
