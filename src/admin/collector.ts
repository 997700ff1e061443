// Scrapes the proxies' Prometheus endpoints (sources.scrapeTargets) in rounds and keeps what the dashboard needs:
// per proxy its last totals (to take differences), the last rounds' differences (rates over a window), gateway
// ejections, and region totals for /debug/traffic. The cost is bounded for large meshes: a round starts at most
// every max(intervalMs, targets / maxScrapesPerSecond, last round's CPU / cpuBudget): 1 s for a small mesh; a
// larger one is scraped less often so that scraping takes at most cpuBudget (5%) of one core on average. At most
// `concurrency` scrapes are in flight, each with a timeout and a body cap, and only the wanted lines are parsed.
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
  /** rates are taken over the rounds of the last windowMs */
  windowMs?: number;
  maxScrapesPerSecond?: number;
  concurrency?: number;
  timeoutMs?: number;
  maxBodyBytes?: number;
  /** a gateway's ejection shows on its service this long (Envoy's base ejection time is 30 s) */
  ejectionShowMs?: number;
  /** share of one core that scraping may use on average (rounds are spaced out to stay under it) */
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
  /** per proxy URL: its denial counters at the last scrape */
  private readonly lastDenials = new Map<string, Map<string, Denial>>();
  private readonly denialEvents = new DenialEvents();
  stats: CollectorStats = { targets: 0, rounds: 0, lastRoundMs: 0, lastRoundCpuMs: 0, periodMs: 0, errors: [] };

  /** `onDenied`: requests the proxies' authorization denied since the last round, at a bounded rate (denials.ts) */
  constructor(private readonly targets: () => readonly ScrapeTarget[], opts: CollectorOptions = {}, private readonly onDenied?: (e: DenialEvent) => void) {
    this.o = {
      intervalMs: opts.intervalMs ?? 1000, windowMs: opts.windowMs ?? 3000, maxScrapesPerSecond: opts.maxScrapesPerSecond ?? 200,
      concurrency: opts.concurrency ?? 16, timeoutMs: opts.timeoutMs ?? 2000, maxBodyBytes: opts.maxBodyBytes ?? 1 << 20, ejectionShowMs: opts.ejectionShowMs ?? 30_000, cpuBudget: opts.cpuBudget ?? 0.05,
    };
  }

  get windowMs(): number { return this.o.windowMs; }

  periodMs(n = this.targets().length): number {
    return Math.max(this.o.intervalMs, Math.ceil((n / this.o.maxScrapesPerSecond) * 1000), Math.ceil(this.stats.lastRoundCpuMs / this.o.cpuBudget));
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
    const errors: string[] = [];
    const flows = new Map<string, FlowCounts>();
    const ejections = new Map<string, number>();
    const seen = new Set<string>();
    const denied = new Map<string, Denial[]>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < targets.length) {
        const t = targets[next++]!;
        seen.add(t.url);
        try {
          const samples = parseWanted(await scrapeText(t.url, this.agent, this.o.timeoutMs, this.o.maxBodyBytes));
          const totals = proxyTotals(samples);
          const d = totalsDelta(this.last.get(t.url), totals);
          this.last.set(t.url, totals);
          this.regionTotals.set(t.url, requestsByRegion(samples));
          addFlows(flows, d.flows);
          const den = denialTotals(samples);
          const dd = denialDelta(this.lastDenials.get(t.url), den);
          this.lastDenials.set(t.url, den);
          if (dd.length) denied.set(t.name, dd);
          const network = t.name.startsWith('gateway/') ? t.name.slice('gateway/'.length) : undefined;
          for (const [label, n] of d.ejections) {
            ejections.set(label, (ejections.get(label) ?? 0) + n);
            const host = hostOfClusterLabel(label);
            this.ejectedAt.set(`${t.url}|${label}`, { host, ...(network ? { network } : {}), at: Date.now() });
          }
        } catch (e) {
          errors.push(`${t.name} (${t.url}): ${(e as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.o.concurrency, targets.length) }, worker));
    // proxies that went away: forget them (a proxy that comes back starts from a new baseline)
    for (const url of this.last.keys()) if (!seen.has(url)) { this.last.delete(url); this.regionTotals.delete(url); this.lastDenials.delete(url); }
    const end = Date.now();
    if (this.onDenied) for (const e of this.denialEvents.round(end, denied)) this.onDenied(e);
    const seconds = prevStart > 0 ? (start - prevStart) / 1000 : this.o.intervalMs / 1000;
    this.ticks.push({ at: end, seconds, flows, ejections });
    this.ticks = this.ticks.filter((t) => t.at >= end - this.o.windowMs - this.periodMs(targets.length));
    for (const [k, v] of this.ejectedAt) if (v.at < end - this.o.ejectionShowMs) this.ejectedAt.delete(k);
    const cpu = process.cpuUsage(cpu0);
    this.stats = { ...this.stats, lastRoundCpuMs: Math.round((cpu.user + cpu.system) / 1000) };
    this.stats = { ...this.stats, targets: targets.length, rounds: this.stats.rounds + 1, lastRoundMs: end - start, periodMs: this.periodMs(targets.length), errors, lastAt: end };
    if (errors.length > 0 && errors.length === targets.length) log.debug({ errors: errors.length }, 'no proxy metrics endpoint answered');
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
