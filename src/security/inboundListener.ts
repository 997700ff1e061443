// The sidecar's inbound listener as pilot sends it over LDS (pure): Istio's `virtualInbound`, with the workload's
// authorization as Envoy RBAC filters and its PeerAuthentication as filter chains — so an Envoy could take the same
// resource, and meshfed's sidecar reads exactly what it enforces from it:
//   * per mTLS mode, filter chains matched by transport_protocol "tls" (mTLS, client certificate required) and,
//     unless STRICT, "raw_buffer" (plaintext); portLevelMtls adds chains with destination_port (Envoy picks the most
//     specific destination_port first, so a STRICT port has no plaintext chain even if the workload is PERMISSIVE);
//   * TLS chains are split by ALPN: "meshfed-tcp" (CONNECT tunnels) → network RBAC filters + tcp_proxy,
//     otherwise HTTP → http_connection_manager with HTTP RBAC filters before the router.
// DISABLE has plaintext chains only, as istiod builds them: a TLS connection matches no chain and is closed (an Envoy
// closes it the same way). meshfed's outbound has no auto-mTLS downgrade, so meshed callers cannot reach such a port.
import { packAny, TYPE_URL } from '../xds/protos.ts';
import { workloadRbac, type WorkloadRbac } from './authzTranslate.ts';
import { authorizationFor, DEFAULT_ROOT_NAMESPACE, effectiveMtls, type EffectiveMode, type EffectiveMtls } from './select.ts';
import type { SecuritySet, WorkloadRef } from './types.ts';

export const INBOUND_LISTENER = 'virtualInbound';
import { TCP_ALPN } from '../proxy/tunnel.ts';
const INBOUND_PORT = 15006;

type Resource = Record<string, unknown>;

function httpFilters(rbac: WorkloadRbac): Resource[] {
  return [
    ...rbac.http.map((f) => ({ name: 'envoy.filters.http.rbac', typed_config: packAny(TYPE_URL.rbacHttp, f) })),
    { name: 'envoy.filters.http.router', typed_config: packAny(TYPE_URL.router, {}) },
  ];
}

function hcm(rbac: WorkloadRbac, statPrefix: string): Resource {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: packAny(TYPE_URL.httpConnectionManager, {
      stat_prefix: statPrefix,
      route_config: { name: 'inbound|http', virtual_hosts: [{ name: 'inbound|http', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'inbound|http' } }] }] },
      http_filters: httpFilters(rbac),
    }),
  };
}

function tcpFilters(rbac: WorkloadRbac): Resource[] {
  return [
    ...rbac.tcp.map((f) => ({ name: 'envoy.filters.network.rbac', typed_config: packAny(TYPE_URL.rbacNetwork, f) })),
    { name: 'envoy.filters.network.tcp_proxy', typed_config: packAny(TYPE_URL.tcpProxy, { stat_prefix: 'inbound|tcp', cluster: 'inbound|tcp' }) },
  ];
}

const mtlsSocket = (alpn: string[]): Resource => ({
  name: 'envoy.transport_sockets.tls',
  typed_config: packAny(TYPE_URL.downstreamTlsContext, { require_client_certificate: { value: true }, common_tls_context: { alpn_protocols: alpn } }),
});

function chains(mode: EffectiveMode, port: number | undefined, rbac: WorkloadRbac): Resource[] {
  const at = port === undefined ? {} : { destination_port: { value: port } };
  const suffix = port === undefined ? '' : `|${port}`;
  const out: Resource[] = mode === 'DISABLE' ? [] : [
    { name: `inbound-mtls-tcp${suffix}`, filter_chain_match: { ...at, transport_protocol: 'tls', application_protocols: [TCP_ALPN] }, transport_socket: mtlsSocket([TCP_ALPN]), filters: tcpFilters(rbac) },
    { name: `inbound-mtls-http${suffix}`, filter_chain_match: { ...at, transport_protocol: 'tls' }, transport_socket: mtlsSocket(['http/1.1']), filters: [hcm(rbac, `inbound_mtls${suffix}`)] },
  ];
  if (mode !== 'STRICT') out.push({ name: `inbound-plaintext-http${suffix}`, filter_chain_match: { ...at, transport_protocol: 'raw_buffer' }, filters: [hcm(rbac, `inbound_plaintext${suffix}`)] });
  return out;
}

/** The listener for a workload from the accepted security set. */
export function inboundListener(set: SecuritySet, w: WorkloadRef, rootNamespace = DEFAULT_ROOT_NAMESPACE): Resource {
  const rbac = workloadRbac(authorizationFor(set.authorizationPolicies, w, rootNamespace));
  const mtls: EffectiveMtls = effectiveMtls(set.peerAuthentications, w, rootNamespace);
  return {
    name: INBOUND_LISTENER,
    address: { socket_address: { address: '0.0.0.0', port_value: INBOUND_PORT } },
    filter_chains: [
      ...Object.entries(mtls.ports).sort(([a], [b]) => Number(a) - Number(b)).flatMap(([p, m]) => chains(m, Number(p), rbac)),
      ...chains(mtls.mode, undefined, rbac),
    ],
  };
}
