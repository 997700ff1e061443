// Which security objects apply to a workload, and its effective mTLS mode — Istio's scoping, pure.
//   AuthorizationPolicy: in the root namespace → every workload (narrowed by its selector); otherwise the workloads
//   of its namespace (narrowed by its selector). All that apply are combined (DENY, then ALLOW).
//   PeerAuthentication: the most specific wins — workload (selector, same namespace) over namespace-wide over
//   mesh-wide (root namespace, no selector); UNSET inherits from the next level; PERMISSIVE when nothing says.
//   Two at the same level: the first by name wins (Istio: the oldest) and the conflict is reported.
import type { AuthorizationPolicy, MtlsMode, PeerAuthentication, WorkloadRef, WorkloadSelector } from './types.ts';

export const DEFAULT_ROOT_NAMESPACE = 'meshfed-system';

export type EffectiveMode = Exclude<MtlsMode, 'UNSET'>;

export interface EffectiveMtls {
  mode: EffectiveMode;
  /** workload port → mode where portLevelMtls says something else */
  ports: Readonly<Record<number, EffectiveMode>>;
}

function selects(sel: WorkloadSelector | undefined, w: WorkloadRef): boolean {
  const ml = sel?.matchLabels ?? {};
  return Object.entries(ml).every(([k, v]) => w.labels[k] === v);
}

const hasSelector = (sel: WorkloadSelector | undefined): boolean => Object.keys(sel?.matchLabels ?? {}).length > 0;

export function authorizationApplies(p: AuthorizationPolicy, w: WorkloadRef, rootNamespace = DEFAULT_ROOT_NAMESPACE): boolean {
  if (p.metadata.namespace !== rootNamespace && p.metadata.namespace !== w.namespace) return false;
  return selects(p.spec.selector, w);
}

export function authorizationFor(all: readonly AuthorizationPolicy[], w: WorkloadRef, rootNamespace = DEFAULT_ROOT_NAMESPACE): AuthorizationPolicy[] {
  return all.filter((p) => authorizationApplies(p, w, rootNamespace));
}

const byName = (a: PeerAuthentication, b: PeerAuthentication): number => a.metadata.name.localeCompare(b.metadata.name);

/** The PeerAuthentications that decide for `w`, most specific first (workload, namespace, mesh). */
export function peerAuthenticationChain(all: readonly PeerAuthentication[], w: WorkloadRef, rootNamespace = DEFAULT_ROOT_NAMESPACE): PeerAuthentication[] {
  const workload = all.filter((p) => p.metadata.namespace === w.namespace && hasSelector(p.spec.selector) && selects(p.spec.selector, w)).sort(byName);
  const ns = all.filter((p) => p.metadata.namespace === w.namespace && !hasSelector(p.spec.selector)).sort(byName);
  const mesh = all.filter((p) => p.metadata.namespace === rootNamespace && !hasSelector(p.spec.selector)).sort(byName);
  return [workload[0], ns[0], mesh[0]].filter((p): p is PeerAuthentication => p !== undefined);
}

export function effectiveMtls(all: readonly PeerAuthentication[], w: WorkloadRef, rootNamespace = DEFAULT_ROOT_NAMESPACE): EffectiveMtls {
  const chain = peerAuthenticationChain(all, w, rootNamespace);
  const set = (m: MtlsMode | undefined): m is EffectiveMode => m !== undefined && m !== 'UNSET';
  const mode = chain.map((p) => p.spec.mtls?.mode).find(set) ?? 'PERMISSIVE';
  const ports: Record<number, EffectiveMode> = {};
  const top = chain[0];
  if (top && hasSelector(top.spec.selector)) {
    for (const [port, v] of Object.entries(top.spec.portLevelMtls ?? {})) {
      const m = v?.mode;
      if (set(m) && m !== mode) ports[Number(port)] = m;
    }
  }
  return { mode, ports };
}
