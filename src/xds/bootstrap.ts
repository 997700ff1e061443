// The bootstrap a proxyless gRPC application (grpc-js-xds, grpc-go, grpc-java with GRPC_XDS_BOOTSTRAP) reads to find
// meshfed's pilot and to say who it is; pure. It names the control plane's Service, not a replica: the Service sends
// each new connection to a live replica, so a client whose replica dies reconnects to another (grpc's xDS clients
// reconnect to the same server URI with backoff and resume their subscriptions). gRPC clients use the first of
// xds_servers (fallback to the next, gRFC A71, is not in grpc-js-xds 1.14), so one Service address is the HA form.

export interface ProxylessBootstrapOptions {
  /** HOST:PORT of pilot's plaintext ADS, normally the control plane's Service */
  xds: string;
  /** Istio's node id form (mesh/names.ts xdsNodeId): sidecar~<pod ip>~<pod>.<namespace>~<namespace>.svc.cluster.local */
  nodeId: string;
  cluster?: string;
  network?: string;
  region?: string;
  zone?: string;
}

export const CONTROL_PLANE_SERVICE_XDS = 'meshfed.meshfed-system.svc:15010';

export function proxylessBootstrap(o: ProxylessBootstrapOptions): object {
  const metadata: Record<string, string> = {
    // istiod's rule for a proxyless client (CONTRACTS.md): pilot answers with api_listeners, no sidecar ports
    GENERATOR: 'grpc', MESHFED_ROLE: 'proxyless',
    ...(o.cluster ? { CLUSTER_ID: o.cluster } : {}), ...(o.network ? { NETWORK: o.network } : {}),
  };
  return {
    xds_servers: [{ server_uri: o.xds, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: o.nodeId, locality: { region: o.region ?? '', zone: o.zone ?? '' }, metadata },
  };
}
