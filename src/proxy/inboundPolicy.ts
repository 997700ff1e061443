// The sidecar's view of its inbound listener (LDS `virtualInbound`, built by pilot from AuthorizationPolicy and
// PeerAuthentication): which connections each filter chain accepts (mTLS or plaintext, per workload port, by ALPN)
// and the RBAC filters it runs. Decoding throws on what the sidecar cannot honor, so the xDS client NACKs it and the
// last good policy stays enforced. Only xDS plumbing and the RBAC engine are imported: the sidecar stays lean.
import { TYPE_URL, unpackAny, type AnyMessage } from '../xds/protos.ts';
import type { RbacFilter } from '../security/rbacTypes.ts';
import { compileRbac, type CompiledRbac } from './rbacEngine.ts';
import { TCP_ALPN } from './tunnel.ts';
import type { XdsClient } from '../xds/adsClient.ts';
import { egressPolicyFromListener, type EgressPolicy } from './egressPolicy.ts';

export const INBOUND_LISTENER = 'virtualInbound';
export const OUTBOUND_LISTENER = 'virtualOutbound';

export interface InboundChain {
  name: string;
  /** workload port this chain is for; undefined = any port */
  port?: number;
  transport: 'tls' | 'raw_buffer';
  /** ALPN values the chain matches; empty = any */
  alpn: string[];
  /** RBAC filters of the HTTP connection manager (HTTP chains), in order */
  http: CompiledRbac[];
  /** network RBAC filters (TCP chains), in order */
  tcp: CompiledRbac[];
}

export interface InboundPolicy {
  chains: InboundChain[];
  /** what pilot sent, for `meshfed proxy-config`-style dumps (RBAC configs as decoded) */
  source: 'default' | 'xds';
}

/** Before pilot says otherwise: mTLS only (as STRICT), no authorization — what meshfed did before policies existed. */
export const DEFAULT_INBOUND: InboundPolicy = {
  source: 'default',
  chains: [
    { name: 'default-mtls-tcp', transport: 'tls', alpn: [TCP_ALPN], http: [], tcp: [] },
    { name: 'default-mtls-http', transport: 'tls', alpn: [], http: [], tcp: [] },
  ],
};

interface DecodedFilter { name?: string; typed_config?: AnyMessage | null }
interface DecodedChain {
  name?: string;
  filter_chain_match?: { destination_port?: { value?: number } | null; transport_protocol?: string; application_protocols?: string[] } | null;
  filters?: DecodedFilter[];
}

function rbacOf(f: DecodedFilter, type: string, where: string): CompiledRbac | undefined {
  if (f.typed_config?.type_url !== type) return undefined;
  try {
    return compileRbac(unpackAny<RbacFilter>(f.typed_config));
  } catch (e) {
    throw new Error(`${where}: RBAC config cannot be used: ${(e as Error).message}`);
  }
}

/** Decodes the listener as the xDS client hands it over (Any fields still packed). */
export function inboundPolicyFromListener(l: Record<string, unknown>): InboundPolicy {
  const chains: InboundChain[] = [];
  for (const c of (l.filter_chains as DecodedChain[] | undefined) ?? []) {
    const name = c.name ?? '';
    const m = c.filter_chain_match ?? {};
    const transport = m.transport_protocol === 'raw_buffer' ? 'raw_buffer' : m.transport_protocol === 'tls' ? 'tls' : undefined;
    if (!transport) throw new Error(`filter chain "${name}": transport_protocol "${m.transport_protocol ?? ''}" is not tls or raw_buffer`);
    const port = m.destination_port?.value ? Number(m.destination_port.value) : undefined;
    const http: CompiledRbac[] = [];
    const tcp: CompiledRbac[] = [];
    for (const f of c.filters ?? []) {
      const net = rbacOf(f, TYPE_URL.rbacNetwork, `filter chain "${name}"`);
      if (net) { tcp.push(net); continue; }
      if (f.typed_config?.type_url !== TYPE_URL.httpConnectionManager) continue;
      const hcm = unpackAny<{ http_filters?: DecodedFilter[] }>(f.typed_config);
      for (const hf of hcm.http_filters ?? []) { const r = rbacOf(hf, TYPE_URL.rbacHttp, `filter chain "${name}"`); if (r) http.push(r); }
    }
    chains.push({ name, ...(port ? { port } : {}), transport, alpn: m.application_protocols ?? [], http, tcp });
  }
  // no TLS chain is PeerAuthentication DISABLE (mTLS refused); no chain at all would refuse every caller
  if (chains.length === 0) throw new Error(`listener ${INBOUND_LISTENER} has no filter chain; the sidecar would refuse every caller`);
  return { chains, source: 'xds' };
}

/** Whether any chain accepts TLS (false under PeerAuthentication DISABLE everywhere: mTLS is refused at the first byte). */
export function acceptsTls(p: InboundPolicy): boolean {
  return p.chains.some((c) => c.transport === 'tls');
}

/**
 * The chain a connection takes, as Envoy chooses: chains for its destination port if any exist (else the port-less
 * ones), then by transport, then ALPN (a chain naming the connection's ALPN over one that names none).
 */
export function selectChain(p: InboundPolicy, conn: { port: number; tls: boolean; alpn?: string | false | null }): InboundChain | undefined {
  const byPort = p.chains.filter((c) => c.port === conn.port);
  const cands = (byPort.length ? byPort : p.chains.filter((c) => c.port === undefined)).filter((c) => c.transport === (conn.tls ? 'tls' : 'raw_buffer'));
  const alpn = conn.alpn || '';
  return cands.find((c) => alpn !== '' && c.alpn.includes(alpn)) ?? cands.find((c) => c.alpn.length === 0);
}

/**
 * Subscribes to the sidecar's two listeners: `virtualInbound` (mTLS modes, authorization) → `onPolicy`, and
 * `virtualOutbound` (ServiceEntries, outboundTrafficPolicy) → `onEgress` (undefined = pilot sent none). Both are
 * decoded before either is applied, so a bad one NACKs the update and the last good pair stays.
 */
export function wireInboundPolicy(xds: XdsClient, onPolicy: (p: InboundPolicy) => void, onEgress: (p: EgressPolicy | undefined) => void = () => {}): void {
  xds.subscribe(TYPE_URL.listener, [INBOUND_LISTENER, OUTBOUND_LISTENER], (resources) => {
    const l = resources.find((r) => r.name === INBOUND_LISTENER);
    const o = resources.find((r) => r.name === OUTBOUND_LISTENER);
    const inbound = l ? inboundPolicyFromListener(l) : DEFAULT_INBOUND;
    const egress = o ? egressPolicyFromListener(o) : undefined;
    onPolicy(inbound);
    onEgress(egress);
  });
}
