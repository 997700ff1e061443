// One entry per address in a ClusterLoadAssignment, for proxyless gRPC clients. Split horizon sends one gateway
// entry per remote locality, all with the gateway's address; Envoy and the meshfed sidecar accept that, but
// grpc-js-xds (1.14) rejects the whole CLA ("address is a duplicate of another address in the same endpoint") and
// then never resolves the name. Pure.

export interface LbEntry {
  endpoint: { address: { socket_address: { address: string; port_value: number } } };
  load_balancing_weight: { value: number };
}

export interface LocalityEntry<L extends LbEntry = LbEntry> {
  priority: number;
  load_balancing_weight: { value: number };
  lb_endpoints: L[];
}

/**
 * Folds every repeated address:port into its first entry. `localities` must be in priority order (best first), so
 * the entry kept is the one at the lowest (best) priority among the localities that listed the address. The kept
 * endpoint's weight becomes the sum of the weights it stands for, and its locality's weight grows by the share of
 * locality weight the folded endpoints carried (their source localities shrink by as much). Localities left
 * empty are dropped; priorities are not renumbered here (compact them afterwards).
 */
export function oneEntryPerAddress<L extends LbEntry, E extends LocalityEntry<L>>(localities: readonly E[]): E[] {
  const out = localities.map((e) => ({ ...e, load_balancing_weight: { value: e.load_balancing_weight.value }, lb_endpoints: [] as L[] }));
  const first = new Map<string, { at: E; lb: L }>();
  for (const [i, e] of localities.entries()) {
    const total = e.lb_endpoints.reduce((s, l) => s + l.load_balancing_weight.value, 0) || 1;
    const share = (w: number): number => (e.load_balancing_weight.value * w) / total;
    let kept = 0;
    for (const lb of e.lb_endpoints) {
      const a = lb.endpoint.address.socket_address;
      const key = `${a.address}|${a.port_value}`;
      const seen = first.get(key);
      if (!seen) {
        const copy = { ...lb, load_balancing_weight: { value: lb.load_balancing_weight.value } };
        out[i]!.lb_endpoints.push(copy);
        first.set(key, { at: out[i]!, lb: copy });
        kept += lb.load_balancing_weight.value;
        continue;
      }
      seen.lb.load_balancing_weight.value += lb.load_balancing_weight.value;
      if (seen.at === out[i]) kept += lb.load_balancing_weight.value; // twice in one locality: its weight stays
      else seen.at.load_balancing_weight.value += Math.max(1, Math.round(share(lb.load_balancing_weight.value)));
    }
    if (kept < total && out[i]!.lb_endpoints.length) out[i]!.load_balancing_weight.value = Math.max(1, Math.round(share(kept)));
  }
  return out.filter((e) => e.lb_endpoints.length > 0);
}
