/** Platform-neutral subset of Istio networking v1 (v1beta1 accepted): VirtualService and DestinationRule. */

export interface PolicyMeta {
  namespace: string;
  name: string;
  generation: number;
}

export interface StringMatch {
  exact?: string;
  prefix?: string;
  regex?: string;
}

export interface HttpMatchRequest {
  uri?: StringMatch;
  headers?: Record<string, StringMatch>;
  method?: StringMatch;
}

export interface Destination {
  host: string;
  subset?: string;
  port?: { number: number };
}

export interface HttpRouteDestination {
  destination: Destination;
  weight?: number;
}

export interface HttpRetry {
  attempts: number;
  perTryTimeout?: string;
  retryOn?: string;
}

export interface Percent {
  value: number;
}

export interface HttpFault {
  delay?: { fixedDelay: string; percentage?: Percent };
  abort?: { httpStatus: number; percentage?: Percent };
}

export interface HeaderOperations {
  set?: Record<string, string>;
  add?: Record<string, string>;
  remove?: string[];
}

export interface HttpRoute {
  name?: string;
  match?: HttpMatchRequest[];
  route: HttpRouteDestination[];
  retries?: HttpRetry;
  timeout?: string;
  fault?: HttpFault;
  headers?: { request?: HeaderOperations; response?: HeaderOperations };
}

export interface VirtualServiceSpec {
  hosts: string[];
  http?: HttpRoute[];
}

export interface VirtualService {
  kind: 'VirtualService';
  metadata: PolicyMeta;
  spec: VirtualServiceSpec;
}

export type SimpleLb = 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM';

export interface LoadBalancerSettings {
  simple?: SimpleLb;
  consistentHash?: { httpHeaderName?: string };
  localityLbSetting?: LocalityLbSetting;
}

export interface LocalityLbSetting {
  enabled?: boolean;
  distribute?: { from: string; to: Record<string, number> }[];
  failover?: { from: string; to: string }[];
  failoverPriority?: string[];
}

export interface ConnectionPoolSettings {
  tcp?: { maxConnections?: number };
  http?: { http1MaxPendingRequests?: number; maxRequestsPerConnection?: number };
}

export interface OutlierDetection {
  consecutive5xxErrors?: number;
  consecutiveGatewayErrors?: number;
  interval?: string;
  baseEjectionTime?: string;
  maxEjectionPercent?: number;
}

export interface TrafficPolicy {
  loadBalancer?: LoadBalancerSettings;
  connectionPool?: ConnectionPoolSettings;
  outlierDetection?: OutlierDetection;
}

export interface Subset {
  name: string;
  labels: Record<string, string>;
  trafficPolicy?: TrafficPolicy;
}

export interface DestinationRuleSpec {
  host: string;
  subsets?: Subset[];
  trafficPolicy?: TrafficPolicy;
}

export interface DestinationRule {
  kind: 'DestinationRule';
  metadata: PolicyMeta;
  spec: DestinationRuleSpec;
}

export type PolicyObject = VirtualService | DestinationRule;

export interface Rejection {
  kind: PolicyObject['kind'];
  namespace: string;
  name: string;
  generation: number;
  /** Each reason is "<field path>: <what is wrong>". */
  reasons: string[];
}

export function policyKey(o: { kind: string; metadata: { namespace: string; name: string } }): string {
  return `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`;
}
