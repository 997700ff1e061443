// The playground's control plane: N replicas in this process, each with its own ports, electing a leader on one
// Lease (what `dev up --control-plane-replicas N` runs). `dev kill-leader` ends the leading replica as a crash would
// (the Lease is not handed over, so another takes over when it expires) and starts a replacement on the same ports,
// as a Deployment replaces a dead pod; the proxies, given every replica's xDS address, move to a live one.
import { startControlPlane, type ControlPlane, type ControlPlaneConfig } from '../controlplane/controlPlane.ts';

type Ports = ControlPlaneConfig['ports'];

/** Pure: replica `slot`'s ports — the given ones for the first, +100 per further replica (0 stays 0: any free port). */
export function replicaPorts(base: Ports, slot: number): Ports {
  const at = (p: number): number => (p === 0 ? 0 : p + 100 * slot);
  return { xds: at(base.xds), secure: at(base.secure), admin: at(base.admin) };
}

export interface KilledLeader { killed: string; slot: number }

export interface ControlPlaneReplicas {
  /** the first replica running (its CA and dashboard are the ones the playground prints) */
  first(): ControlPlane;
  all(): ControlPlane[];
  /** every replica's plaintext xDS address, `host:port,…`: what the proxies are given */
  xdsTarget: string;
  /** the replica holding the Lease now (undefined while nobody does) */
  leader(): ControlPlane | undefined;
  /** ends the leader; its replacement starts in the background (replacing() until it is up) */
  killLeader(): Promise<KilledLeader>;
  replacing(): Promise<void>;
  stop(): Promise<void>;
}

export async function startControlPlaneReplicas(n: number, cfg: ControlPlaneConfig & { leaderElection: Exclude<ControlPlaneConfig['leaderElection'], false | undefined> }, progress: (line: string) => void): Promise<ControlPlaneReplicas> {
  if (!Number.isInteger(n) || n < 1 || n > 5) throw new Error(`--control-plane-replicas must be 1 to 5, got ${n}`);
  let started = 0;
  const start = (slot: number, ports: Ports): Promise<ControlPlane> => {
    const id = `cp-${++started}`;
    return startControlPlane({ ...cfg, ports, leaderElection: { ...cfg.leaderElection, identity: id }, onProgress: (l) => progress(`control plane ${id}: ${l}`) });
  };
  const slots: Array<ControlPlane | undefined> = [];
  try {
    // one after another: the first creates the shared development CA the others then load
    for (let s = 0; s < n; s++) slots.push(await start(s, replicaPorts(cfg.ports, s)));
  } catch (e) {
    for (const cp of slots) await cp?.stop();
    throw e;
  }
  let replacing: Promise<void> = Promise.resolve();
  const all = (): ControlPlane[] => slots.filter((c): c is ControlPlane => c !== undefined);
  const leader = (): ControlPlane | undefined => all().find((c) => c.elector?.isLeader());
  return {
    first: () => all()[0]!,
    all,
    xdsTarget: slots.map((c) => `${cfg.host}:${c!.ports.xds}`).join(','),
    leader,
    killLeader: async () => {
      const l = leader();
      if (!l) throw new Error('no replica leads right now (a takeover is under way): try again in a few seconds');
      const slot = slots.indexOf(l);
      const killed = l.elector!.identity;
      slots[slot] = undefined;
      // it stops renewing now (the moment it "dies"); its servers close and its replacement starts behind the answer
      await l.elector!.stop({ releaseLease: false });
      progress(`control plane ${killed} ended (its Lease is not released: another replica takes over when it expires)`);
      replacing = (async () => {
        await l.stop({ releaseLease: false });
        const cp = await start(slot, l.ports);
        slots[slot] = cp;
        progress(`control plane ${cp.elector!.identity} started in place of ${killed}`);
      })().catch((e: unknown) => progress(`control plane: the replacement of ${killed} did not start: ${(e as Error).message}`));
      return { killed, slot };
    },
    replacing: () => replacing,
    stop: async () => { await replacing; for (const cp of all()) await cp.stop(); },
  };
}
