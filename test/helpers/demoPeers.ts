// The two workloads the sidecar tests and benches put sidecars in front of: a (the caller) and b (the destination),
// in namespace demo of trust domain cluster.local, each with a leaf certificate from one throwaway mesh CA; b's
// service host and the SNI a's outbound sends for b:8080.
import { gatewaySni, spiffeId } from '../../src/mesh/names.ts';
import { meshCa, type MeshCa } from './tlsCerts.ts';

export interface DemoPeers {
  ca: MeshCa;
  idA: string;
  idB: string;
  certA: { key: string; cert: string };
  certB: { key: string; cert: string };
  /** b's service host, b.demo.svc.cluster.local */
  HOST: string;
  /** the SNI of b's port 8080 (outbound_.8080_._.b.demo.svc.cluster.local) */
  sni: string;
}

/** A fresh CA and leaves for a and b (openssl: about 100 ms). */
export function demoPeers(): DemoPeers {
  const ca = meshCa();
  const idA = spiffeId('cluster.local', 'demo', 'a');
  const idB = spiffeId('cluster.local', 'demo', 'b');
  const HOST = 'b.demo.svc.cluster.local';
  return { ca, idA, idB, certA: ca.leaf(idA), certB: ca.leaf(idB), HOST, sni: gatewaySni(HOST, 8080) };
}
