// @kubernetes/client-node 1.4 builds a new https.Agent for every request, so every API call pays a fresh TCP + TLS
// handshake (measured against the stand-in: ~7 ms per GET, most of it connection setup). The control plane talks to
// its member clusters all the time (informers, replication, TokenReviews): give each KubeConfig one keep-alive agent
// per cluster/user instead. Long-lived watches hold their own sockets; idle ones are kept for reuse.
import https from 'node:https';
import type * as k8s from '@kubernetes/client-node';

type CreateAgent = (cluster: k8s.Cluster | null, opts: https.AgentOptions) => https.Agent;
const patched = new WeakSet<k8s.KubeConfig>();

export function keepAlive(kc: k8s.KubeConfig): k8s.KubeConfig {
  if (patched.has(kc)) return kc;
  patched.add(kc);
  const target = kc as unknown as { createAgent: CreateAgent };
  const original = target.createAgent.bind(kc);
  const agents = new Map<string, https.Agent>();
  target.createAgent = (cluster, opts) => {
    // proxies and plain http keep client-node's own behaviour
    if (cluster?.proxyUrl || cluster?.server.startsWith('http:')) return original(cluster, opts);
    const key = `${cluster?.server ?? ''}|${kc.getCurrentUser()?.name ?? ''}|${opts.rejectUnauthorized ?? ''}|${opts.servername ?? ''}`;
    let agent = agents.get(key);
    if (!agent) {
      agent = new https.Agent({ ...opts, keepAlive: true, maxFreeSockets: 16 });
      agents.set(key, agent);
    }
    return agent;
  };
  return kc;
}
