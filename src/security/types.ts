// Platform-neutral subset of Istio security v1 (v1beta1 accepted): AuthorizationPolicy and PeerAuthentication.
// Field names are Istio's, so a policy written for Istio reads the same here. Pure types.

export interface SecurityMeta {
  namespace: string;
  name: string;
  generation: number;
}

export interface WorkloadSelector {
  matchLabels?: Record<string, string>;
}

export interface Source {
  principals?: string[];
  notPrincipals?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
}

export interface Operation {
  hosts?: string[];
  notHosts?: string[];
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}

export interface Condition {
  key: string;
  values?: string[];
  notValues?: string[];
}

export interface Rule {
  from?: { source: Source }[];
  to?: { operation: Operation }[];
  when?: Condition[];
}

export type AuthzAction = 'ALLOW' | 'DENY' | 'AUDIT';

export interface AuthorizationPolicySpec {
  selector?: WorkloadSelector;
  action?: AuthzAction;
  rules?: Rule[];
}

export interface AuthorizationPolicy {
  kind: 'AuthorizationPolicy';
  metadata: SecurityMeta;
  spec: AuthorizationPolicySpec;
}

export type MtlsMode = 'UNSET' | 'DISABLE' | 'PERMISSIVE' | 'STRICT';

export interface PeerAuthenticationSpec {
  selector?: WorkloadSelector;
  mtls?: { mode?: MtlsMode };
  /** workload (container) port → mode; only with a selector, as in Istio */
  portLevelMtls?: Record<string, { mode?: MtlsMode }>;
}

export interface PeerAuthentication {
  kind: 'PeerAuthentication';
  metadata: SecurityMeta;
  spec: PeerAuthenticationSpec;
}

export type SecurityObject = AuthorizationPolicy | PeerAuthentication;

export interface SecuritySet {
  authorizationPolicies: AuthorizationPolicy[];
  peerAuthentications: PeerAuthentication[];
}

export const EMPTY_SECURITY: SecuritySet = { authorizationPolicies: [], peerAuthentications: [] };

/** The workload a sidecar stands for: what selectors and namespaces are matched against. */
export interface WorkloadRef {
  namespace: string;
  labels: Readonly<Record<string, string>>;
}

export function securityKey(o: { kind: string; metadata: { namespace: string; name: string } }): string {
  return `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`;
}
