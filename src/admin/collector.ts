// Scrapes the proxies' Prometheus endpoints (sources.scrapeTargets) in rounds and keeps what the dashboard needs:
// per proxy its last totals (to take differences), the last rounds' differences (rates over a window), gateway
// ejections, and region totals for /debug/traffic. The cost is bounded for large meshes: a round starts at most
// every max(interval, targets / maxScrapesPerSecond, a round's CPU / cpuBudget): the interval is 1 s, and 0.25 s
// for 5 s after something changed (hurry(): a cluster or region changed state, a proxy came or went or stopped
// answering — traffic moves then); a larger mesh is scraped less often, hurried or not, so that a round and the
// graph built from it take at most cpuBudget (3%) of one core by their own measure — what follows them (closing the
// connections the proxies end after 5 s idle, garbage collection) brings the whole to about 5%
// (bench/dashboard.bench.ts). At most `concurrency` scrapes are waited for at a time, each with a timeout
// and a body cap, and only the wanted lines are parsed. A proxy slow to answer does not hold the round (and the
// dashboard's figures) back: after `waitMs` the round goes on without it, its answer counts in the next round, and
// it is not asked again while its request is open (so a region that stops answering costs one open request per
// proxy, each ended by `timeoutMs`).
import http from 'node:http';
import { createLogger } from '../log.ts';
import { requestsByRegion } from './promtext.ts';
import type { ScrapeTarget } from './sources.ts';
import { addFlows, parseWanted, proxyTotals, totalsDelta, windowFlows, type FlowCounts, type ProxyTotals, type Tick } from './traffic.ts';
import { denialDelta, DenialEvents, denialTotals, type Denial, type DenialEvent } from './denials.ts';

const log = createLogger('admin');

export interface CollectorOptions {
  /** shortest time between two rounds (ms) */
  intervalMs?: number;
  /** shortest time between two rounds for hurryMs after hurry() (ms) */
  hurriedIntervalMs?: number;
  hurryMs?: number;
  /** rates are taken over the rounds of the last windowMs */
  windowMs?: number;
  maxScrapesPerSecond?: number;
  concurrency?: number;
  timeoutMs?: number;
  /** a round waits this long for one proxy's answer; a later answer counts in the next round (ms) */
  waitMs?: number;
  maxBodyBytes?: number;
  /** a gateway's ejection shows on its service this long (Envoy's base ejection time is 30 s) */
  ejectionShowMs?: number;
  /** share of one core that rounds (scraping, the graph built after them) may use on average (rounds are spaced out to stay under it) */
  cpuBudget?: number;
}

export interface CollectorStats {
  targets: number;
  rounds: number;
  /** duration of the last round, ms */
  lastRoundMs: number;
  /** CPU this process spent during the last round, ms */
  lastRoundCpuMs: number;
  /** time between rounds now, ms */
  periodMs: number;
  errors: readonly string[];
  lastAt?: number;
}

/**
 * GET a metrics endpoint with node:http over kept-alive connections (a third of fetch's CPU per scrape here), at most
 * `max` bytes within `timeoutMs`; every failure is an Error saying what went wrong.
 */
export function scrapeText(url: string, agent: http.Agent, timeoutMs: number, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, timeout: timeoutMs }, (res) => {
      if (res.statusCode !== 200) { res.resume(); reject(new Error(`HTTP ${res.statusCode}`)); return; }
      const len = Number(res.headers['content-length'] ?? '0');
      if (len > max) { res.destroy(); reject(new Error(`metrics body of ${len} bytes exceeds ${max}`)); return; }
      const chunks: Buffer[] = [];
      let n = 0;
      res.on('data', (c: Buffer) => {
        n += c.length;
        if (n > max) { res.destroy(); reject(new Error(`metrics body exceeds ${max} bytes`)); return; }
        chunks.push(c);
      });
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** outbound|8080||echo.demo.svc.cluster.local or outbound_.8080_._.echo.demo.svc.cluster.local → the hostname */
export function hostOfClusterLabel(label: string): string {
  if (label.includes('|')) return label.split('|').pop() ?? label;
  const i = label.lastIndexOf('_.');
  return i >= 0 ? label.slice(i + 2) : label;
}

export class TrafficCollector {
  private readonly o: Required<CollectorOptions>;
  private readonly last = new Map<string, ProxyTotals>();
  private readonly regionTotals = new Map<string, Record<string, number>>();
  private ticks: Tick[] = [];
  private readonly ejectedAt = new Map<string, { host: string; network?: string; at: number }>();
  private inFlight: Promise<void> | undefined;
  /** one kept-alive connection per proxy between rounds, closed after 5 s idle (a large mesh's rounds are further apart) */
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1, timeout: 5000 });
  private lastRoundStart = 0;
  /** proxies whose scrape is still open (a round went on without them) */
  private readonly open = new Set<string>();
  /** what such late answers brought, and their failures: counted in the next round */
  private late = { flows: new Map<string, FlowCounts>(), ejections: new Map<string, number>(), errors: [] as string[], denied: new Map<string, Denial[]>() };
  /**
   * CPU per proxy of the last rounds (ms). The process's CPU during a round counts whatever else it did meanwhile (a
   * control plane busy with a failover, the playground's proxies in the same process): other work only adds to it, so
   * the smallest of the last rounds is the closest measure of a round's own cost, and the budget is kept with that.
   */
  private cpuPerTarget: number[] = [];
  private lateCpuMs = 0;
  /** bytes of metrics text read this round (a round's plausible cost grows with them) */
  private roundBytes = 0;
  /** rounds every hurriedIntervalMs until then (epoch ms) */
  private hurryUntil = 0;
  /** the targets of the last round, and those whose last scrape failed: a change of either hurries the rounds */
  private lastUrls = new Set<string>();
  private readonly failing = new Set<string>();
  /** per proxy URL: its denial counters at the last scrape */
  private readonly lastDenials = new Map<string, Map<string, Denial>>();
  private readonly denialEvents = new DenialEvents();
  stats: CollectorStats = { targets: 0, rounds: 0, lastRoundMs: 0, lastRoundCpuMs: 0, periodMs: 0, errors: [] };

  /** `onDenied`: requests the proxies' authorization denied since the last round, at a bounded rate (denials.ts) */
  constructor(private readonly targets: () => readonly ScrapeTarget[], opts: CollectorOptions = {}, private readonly onDenied?: (e: DenialEvent) => void) {
    this.o = {
      intervalMs: opts.intervalMs ?? 1000, hurriedIntervalMs: opts.hurriedIntervalMs ?? 250, hurryMs: opts.hurryMs ?? 5000, waitMs: opts.waitMs ?? 500, windowMs: opts.windowMs ?? 3000, maxScrapesPerSecond: opts.maxScrapesPerSecond ?? 200,
      concurrency: opts.concurrency ?? 16, timeoutMs: opts.timeoutMs ?? 2000, maxBodyBytes: opts.maxBodyBytes ?? 1 << 20, ejectionShowMs: opts.ejectionShowMs ?? 30_000, cpuBudget: opts.cpuBudget ?? 0.03,
    };
  }

  get windowMs(): number { return this.o.windowMs; }

  /** Something changed in the mesh: rounds every hurriedIntervalMs for the next hurryMs (the CPU budget still holds). */
  hurry(now = Date.now()): void {
    this.hurryUntil = Math.max(this.hurryUntil, now + this.o.hurryMs);
  }

  /** Work a round caused elsewhere (building the graph from it), counted in that round's cost. */
  addRoundCpu(ms: number): void {
    const i = this.cpuPerTarget.length - 1;
    if (i >= 0 && this.stats.targets > 0) this.cpuPerTarget[i]! += ms / this.stats.targets;
  }

  /** What a round over n proxies costs, from the last rounds (ms of CPU). */
  roundCpuMs(n = this.targets().length): number {
    return this.cpuPerTarget.length === 0 ? 0 : Math.min(...this.cpuPerTarget) * n;
  }

  /** until when rounds are hurried (epoch ms; 0 when never) */
  get hurriedUntil(): number { return this.hurryUntil; }

  periodMs(n = this.targets().length, now = Date.now()): number {
    return Math.max(now < this.hurryUntil ? Math.min(this.o.hurriedIntervalMs, this.o.intervalMs) : this.o.intervalMs, Math.ceil((n / this.o.maxScrapesPerSecond) * 1000), Math.ceil((this.roundCpuMs(n)) / this.o.cpuBudget));
  }

  /** Starts a round when the last one began at least a period ago; concurrent callers share one round. */
  maybeRound(now = Date.now()): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (this.lastRoundStart > 0 && now - this.lastRoundStart < this.periodMs() - 50) return Promise.resolve();
    return this.round();
  }

  /** A round unless one ended within maxAgeMs (for /debug/traffic: fresh figures without a scrape per request). */
  async fresh(maxAgeMs: number): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (this.stats.lastAt !== undefined && Date.now() - this.stats.lastAt <= maxAgeMs && this.stats.targets === this.targets().length) return;
    return this.round();
  }

  private round(): Promise<void> {
    const p = this.doRound().finally(() => { this.inFlight = undefined; });
    this.inFlight = p;
    return p;
  }

  private async doRound(): Promise<void> {
    const start = Date.now();
    const cpu0 = process.cpuUsage();
    const prevStart = this.lastRoundStart;
    this.lastRoundStart = start;
    const targets = [...this.targets()];
    // the answers that came after their round, then this round's
    const { flows, ejections, errors, denied } = this.late;
    this.late = { flows: new Map(), ejections: new Map(), errors: [], denied: new Map() };
    const seen = new Set<string>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < targets.length) {
        const t = targets[next++]!;
        seen.add(t.url);
        if (this.open.has(t.url)) continue; // still answering an earlier round
        this.open.add(t.url);
        let settled = false;
        let late = false;
        const into = () => (late ? this.late : { flows, ejections, errors, denied });
        const done = scrapeText(t.url, this.agent, this.o.timeoutMs, this.o.maxBodyBytes).then(
          (text) => {
            settled = true;
            this.failing.delete(t.url);
            if (!this.open.delete(t.url)) return;
            if (!late) { this.absorb(t, text, into()); return; }
            // a late answer's work counts in the next round's cost
            const c0 = process.cpuUsage();
            this.absorb(t, text, this.late);
            const c = process.cpuUsage(c0);
            this.lateCpuMs += (c.user + c.system) / 1000;
          },
          (e: unknown) => {
            settled = true;
            if (!this.open.delete(t.url)) return;
            into().errors.push(`${t.name} (${t.url}): ${(e as Error).message}`);
            // a proxy that answered before and now does not: something is happening (a once-broken one hurries nothing)
            if (!this.failing.has(t.url) && this.last.has(t.url)) this.hurry();
            this.failing.add(t.url);
          },
        );
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([done, new Promise<void>((r) => { timer = setTimeout(r, this.o.waitMs); })]);
        clearTimeout(timer);
        if (!settled) late = true;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.o.concurrency, targets.length) }, worker));
    // proxies that went away: forget them (a proxy that comes back starts from a new baseline)
    for (const url of this.last.keys()) if (!seen.has(url)) { this.last.delete(url); this.regionTotals.delete(url); this.lastDenials.delete(url); }
    for (const url of this.open) if (!seen.has(url)) this.open.delete(url);
    for (const url of this.failing) if (!seen.has(url)) this.failing.delete(url);
    // proxies came or went: traffic moves
    if (this.lastUrls.size > 0 && (seen.size !== this.lastUrls.size || [...seen].some((u) => !this.lastUrls.has(u)))) this.hurry();
    this.lastUrls = seen;
    const end = Date.now();
    if (this.onDenied) for (const e of this.denialEvents.round(end, denied)) this.onDenied(e);
    const seconds = prevStart > 0 ? (start - prevStart) / 1000 : this.o.intervalMs / 1000;
    this.ticks.push({ at: end, seconds, flows, ejections });
    this.ticks = this.ticks.filter((t) => t.at >= end - this.o.windowMs - this.periodMs(targets.length));
    for (const [k, v] of this.ejectedAt) if (v.at < end - this.o.ejectionShowMs) this.ejectedAt.delete(k);
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000 + this.lateCpuMs;
    this.lateCpuMs = 0;
    this.stats = { ...this.stats, lastRoundCpuMs: Math.round(cpuMs) };
    // and a process so busy that every round of the last 5 was crowded still keeps a small mesh's rounds near their
    // interval: a proxy's scrape is not taken to cost more than 3 ms + 2 ms per 100 KB of its text (measured: 0.6–1.3 ms)
    if (targets.length > 0) {
      const plausible = 3 + (2 * this.roundBytes) / targets.length / 100_000;
      this.cpuPerTarget = [...this.cpuPerTarget, Math.min(cpuMs / targets.length, plausible)].slice(-5);
    }
    this.roundBytes = 0;
    this.stats = { ...this.stats, targets: targets.length, rounds: this.stats.rounds + 1, lastRoundMs: end - start, periodMs: this.periodMs(targets.length), errors, lastAt: end };
    if (errors.length > 0 && errors.length === targets.length) log.debug({ errors: errors.length }, 'no proxy metrics endpoint answered');
  }

  /** One proxy's answer: its increments since its last answer go into `into`. */
  private absorb(t: ScrapeTarget, text: string, into: { flows: Map<string, FlowCounts>; ejections: Map<string, number>; denied: Map<string, Denial[]> }): void {
    this.roundBytes += text.length;
    const samples = parseWanted(text);
    const totals = proxyTotals(samples);
    const d = totalsDelta(this.last.get(t.url), totals);
    this.last.set(t.url, totals);
    this.regionTotals.set(t.url, requestsByRegion(samples));
    addFlows(into.flows, d.flows);
    const den = denialTotals(samples);
    const dd = denialDelta(this.lastDenials.get(t.url), den);
    this.lastDenials.set(t.url, den);
    if (dd.length) into.denied.set(t.name, [...(into.denied.get(t.name) ?? []), ...dd]);
    const network = t.name.startsWith('gateway/') ? t.name.slice('gateway/'.length) : undefined;
    for (const [label, n] of d.ejections) {
      into.ejections.set(label, (into.ejections.get(label) ?? 0) + n);
      this.ejectedAt.set(`${t.url}|${label}`, { host: hostOfClusterLabel(label), ...(network ? { network } : {}), at: Date.now() });
    }
  }

  /** Closes the kept-alive connections. */
  close(): void { this.agent.destroy(); }

  /** Flows added up over the window (at least the last round), and the seconds they span. */
  window(now = Date.now()): { flows: Map<string, FlowCounts>; seconds: number } {
    const span = Math.max(this.o.windowMs, this.periodMs(this.stats.targets));
    return windowFlows(this.ticks, now, span);
  }

  ejected(): { host: string; network?: string }[] {
    return [...this.ejectedAt.values()].map(({ host, network }) => (network ? { host, network } : { host }));
  }

  /** istio_requests_total by source_region->destination_region, summed over the proxies of the last round. */
  byRegion(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const m of this.regionTotals.values()) for (const [k, v] of Object.entries(m)) out[k] = (out[k] ?? 0) + v;
    return out;
  }
}
