// One demo pod as processes would play it, in this process: the app (echo server, or nothing for the sleep client)
// on the pod IP and a meshfed sidecar beside it (identity from the CA's gRPC API, config from xDS).
import type { Server } from 'node:http';
import { startEcho } from '../demo/echo.ts';
import { startSidecar, type RunningSidecar } from '../proxy/runSidecar.ts';
import { DEMO_NAMESPACE, ECHO_PORT, podLabels, SIDECAR_INBOUND, SIDECAR_METRICS, SIDECAR_OUTBOUND, type DemoPod } from './demo.ts';

export interface MeshEndpoints {
  xds: string;
  ca: string;
  /** TLS name to verify on the CA's certificate when `ca` is an IP address */
  caServerName?: string;
  /** PEM file with the mesh roots (to verify the CA's serving certificate) */
  caCertFile: string;
  trustDomain: string;
}

export interface RunningPod {
  pod: DemoPod;
  sidecar: RunningSidecar;
  stop(): Promise<void>;
}

export async function startMeshedPod(pod: DemoPod, tokenFile: string, mesh: MeshEndpoints): Promise<RunningPod> {
  let app: Server | undefined;
  if (pod.app === 'echo') app = await startEcho({ cluster: pod.cluster, region: pod.region, zone: pod.zone, pod: pod.name }, { host: pod.ip, port: ECHO_PORT });
  try {
    const sidecar = await startSidecar({
      xds: mesh.xds, ca: mesh.ca, ...(mesh.caServerName ? { caServerName: mesh.caServerName } : {}), caCertFile: mesh.caCertFile, tokenFile, clusterId: pod.cluster, network: pod.network, region: pod.region, zone: pod.zone,
      appPort: ECHO_PORT, appHost: pod.ip, namespace: DEMO_NAMESPACE, serviceAccount: pod.serviceAccount, service: `${pod.app}.${DEMO_NAMESPACE}.svc.cluster.local`,
      trustDomain: mesh.trustDomain, labels: podLabels(pod),
      outbound: { host: pod.ip, port: SIDECAR_OUTBOUND }, inbound: { host: pod.ip, port: SIDECAR_INBOUND }, metrics: { host: pod.ip, port: SIDECAR_METRICS },
    });
    return {
      pod, sidecar,
      stop: async () => {
        await sidecar.stop();
        if (app) { app.closeAllConnections(); await new Promise<void>((r) => app!.close(() => r())); }
      },
    };
  } catch (e) {
    if (app) { app.closeAllConnections(); app.close(); }
    throw new Error(`pod ${pod.cluster}/${pod.name} (${pod.ip}): sidecar did not start: ${(e as Error).message}`);
  }
}
