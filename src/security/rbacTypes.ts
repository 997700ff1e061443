// The subset of Envoy's RBAC API (envoy.config.rbac.v3, used by envoy.extensions.filters.http.rbac.v3.RBAC and
// envoy.extensions.filters.network.rbac.v3.RBAC) that meshfed generates and its sidecar evaluates. Plain objects in
// Envoy's snake_case field names, as protobufjs encodes and decodes them. Types only: the sidecar imports this.

export interface StringMatcher {
  exact?: string;
  prefix?: string;
  suffix?: string;
  contains?: string;
  safe_regex?: { regex: string };
  ignore_case?: boolean;
  /** protobufjs' oneof discriminator on decoded objects */
  match_pattern?: string;
}

export interface HeaderMatcher {
  name: string;
  string_match?: StringMatcher;
  present_match?: boolean;
  invert_match?: boolean;
  header_match_specifier?: string;
}

export interface CidrRange {
  address_prefix: string;
  prefix_len?: { value: number } | null;
}

export interface Permission {
  and_rules?: { rules: Permission[] };
  or_rules?: { rules: Permission[] };
  any?: boolean;
  header?: HeaderMatcher;
  url_path?: { path?: StringMatcher };
  destination_ip?: CidrRange;
  destination_port?: number;
  not_rule?: Permission;
  rule?: string;
}

export interface Principal {
  and_ids?: { ids: Principal[] };
  or_ids?: { ids: Principal[] };
  any?: boolean;
  authenticated?: { principal_name?: StringMatcher };
  direct_remote_ip?: CidrRange;
  remote_ip?: CidrRange;
  header?: HeaderMatcher;
  not_id?: Principal;
  identifier?: string;
}

export interface RbacPolicy {
  permissions: Permission[];
  principals: Principal[];
}

/** envoy.config.rbac.v3.RBAC */
export interface RbacRules {
  action: 'ALLOW' | 'DENY' | 'LOG';
  policies: Record<string, RbacPolicy>;
}

/** envoy.extensions.filters.http.rbac.v3.RBAC / envoy.extensions.filters.network.rbac.v3.RBAC (the fields used) */
export interface RbacFilter {
  rules: RbacRules;
  /** network filter only (required there) */
  stat_prefix?: string;
}

/** Istio's policy name inside an RBAC config: `ns[<ns>]-policy[<name>]-rule[<index>]`. */
export function rbacPolicyName(namespace: string, name: string, rule: number): string {
  return `ns[${namespace}]-policy[${name}]-rule[${rule}]`;
}

/** The AuthorizationPolicy `<ns>/<name>` an RBAC policy name came from (for metrics and logs). */
export function policyOfRbacName(rbacName: string): string {
  const m = /^ns\[([^\]]*)\]-policy\[([^\]]*)\]/.exec(rbacName);
  return m ? `${m[1]}/${m[2]}` : rbacName;
}
