// The dashboard's /feed: the graph model pushed to every open dashboard, as soon as what it shows changes.
// - A beat drives the collector's rounds (every 1 s for a small mesh, 0.25 s for 5 s after a change; a large mesh's
//   rounds are spaced out by the collector's budget) and records the sparklines' points (one a second).
// - After a round, the graph is pushed at once when its shape changed (an edge appeared or went, a node changed
//   state), otherwise once a second with the new figures.
// - What the control plane learns between rounds (a cluster unreachable, a region failing over, a proxy connecting)
//   is pushed within ~25 ms of its event, coalesced, at most one such push per 100 ms; and the collector hurries,
//   since traffic is about to move.
// One JSON string is sent to every client; a client more than `maxClientBuffer` behind is closed.
import type { WebSocket } from 'ws';
import { createLogger } from '../log.ts';
import type { MeshEvent } from '../observe/events.ts';
import type { TrafficCollector } from './collector.ts';
import type { GraphModel } from './graphModel.ts';
import type { SeriesStore } from './series.ts';

const log = createLogger('admin');

export interface FeedOptions {
  /** figures are pushed at least this often while a dashboard watches (ms) */
  intervalMs: number;
  maxClientBuffer: number;
}

/** Events after which the graph is pushed without waiting for a round: what the nodes' states are made of. */
export function changesGraph(ev: Pick<MeshEvent, 'kind'>): boolean {
  return /^(cluster|failover|service)\.|^proxy\.(connected|disconnected)$|^endpoint\.health$/.test(ev.kind);
}

/** What a push is needed for at once: traffic edges present, node states, regions failing over (figures aside). */
export function graphShape(g: Pick<GraphModel, 'nodes' | 'edges' | 'failover'>): string {
  const edges = g.edges.filter((e) => e.kind === 'traffic').map((e) => e.id).join(',');
  const nodes = g.nodes.map((n) => `${n.id}=${n.state}`).join(',');
  return `${edges}|${nodes}|${g.failover.map((f) => f.region).join(',')}`;
}

export class GraphFeed {
  private readonly clients = new Set<WebSocket>();
  private stopped = false;
  private beat: NodeJS.Timeout | undefined;
  private nextBeatAt = 0;
  private ticking = false;
  private soon: NodeJS.Timeout | undefined;
  private lastRound = 0;
  private lastPush = 0;
  private lastEventPush = 0;
  private lastShape = '';
  private lastPointAt = 0;

  constructor(
    private readonly collector: TrafficCollector,
    private readonly build: (now: number) => GraphModel,
    private readonly series: SeriesStore,
    private readonly hasTargets: () => boolean,
    private readonly o: FeedOptions,
  ) {}

  get size(): number { return this.clients.size; }

  start(): void { void this.tick(); }

  add(ws: WebSocket): void {
    this.clients.add(ws);
    const g = this.build(Date.now());
    this.send(ws, JSON.stringify({ type: 'graph', graph: g }));
    ws.on('close', () => this.clients.delete(ws));
    ws.on('error', () => ws.terminate());
  }

  /** A mesh event: when it changes what the graph shows, hurry the rounds and push within ~25 ms (at most one such push per 100 ms). */
  onEvent(ev: MeshEvent): void {
    if (this.stopped || !changesGraph(ev)) return;
    this.collector.hurry();
    // the next round comes a hurried beat from now, not a whole beat
    if (!this.ticking && this.nextBeatAt - Date.now() > this.beatMs()) this.next(this.beatMs());
    if (this.soon || this.clients.size === 0) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.lastEventPush = Date.now();
      try { this.push(this.build(Date.now())); } catch (e) { log.warn({ err: e }, 'dashboard graph update failed'); }
    }, Math.max(25, 100 - (Date.now() - this.lastEventPush)));
    this.soon.unref();
  }

  close(): void {
    this.stopped = true;
    clearTimeout(this.beat);
    clearTimeout(this.soon);
    for (const ws of this.clients) ws.terminate();
  }

  private beatMs(): number {
    return this.hasTargets() ? Math.min(this.o.intervalMs, this.collector.periodMs()) : this.o.intervalMs;
  }

  private next(ms: number): void {
    clearTimeout(this.beat);
    this.nextBeatAt = Date.now() + ms;
    this.beat = setTimeout(() => void this.tick(), ms);
    this.beat.unref();
  }

  private async tick(): Promise<void> {
    const started = Date.now();
    const every = this.beatMs();
    this.ticking = true;
    try {
      // a small mesh's round ends within half a beat and its figures show at once; a large one's is not waited for
      if (this.hasTargets()) await Promise.race([this.collector.maybeRound(), new Promise((r) => setTimeout(r, every / 2).unref())]);
      if (this.stopped) return;
      // figures change with a round, states at any time: with nobody watching, the graph is built once per round
      const newRound = this.collector.stats.rounds !== this.lastRound;
      if (!newRound && this.clients.size === 0) return;
      const now = Date.now();
      const cpu0 = process.cpuUsage();
      const g = this.build(now);
      if (newRound) {
        this.lastRound = this.collector.stats.rounds;
        // the sparklines keep a point a second, however often the proxies are scraped
        if (now - this.lastPointAt >= 900) {
          this.lastPointAt = now;
          this.series.prune(now);
          for (const e of g.edges) if (e.kind === 'traffic') this.series.add(e.id, now, e.rps, e.errorRps);
          for (const n of g.nodes) if (n.kind === 'service') this.series.add(n.id, now, n.rates?.rps ?? 0, n.rates?.errorRps ?? 0);
        }
        // the graph and the points are made after every round: part of what a round costs, within the collector's budget
        const cpu = process.cpuUsage(cpu0);
        this.collector.addRoundCpu((cpu.user + cpu.system) / 1000);
      }
      if (this.clients.size > 0 && (now - this.lastPush >= this.o.intervalMs - 50 || graphShape(g) !== this.lastShape)) this.push(g);
    } catch (e) {
      log.warn({ err: e }, 'dashboard graph update failed');
    } finally {
      this.ticking = false;
      // a steady beat: the next tick one beat after this one started (a hurried beat if the round hurried the collector)
      if (!this.stopped) this.next(Math.max(50, Math.min(every, this.beatMs()) - (Date.now() - started)));
    }
  }

  private push(g: GraphModel): void {
    this.lastPush = Date.now();
    this.lastShape = graphShape(g);
    const msg = JSON.stringify({ type: 'graph', graph: g });
    for (const ws of this.clients) this.send(ws, msg);
  }

  private send(ws: WebSocket, msg: string): void {
    if (ws.bufferedAmount > this.o.maxClientBuffer) { log.warn({ buffered: ws.bufferedAmount }, 'closing slow /feed client'); ws.terminate(); return; }
    ws.send(msg);
  }
}
