// A small parser for the Prometheus text exposition format: used to read proxies' istio_requests_total
// and, in tests, to check that /metrics is valid.
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;

/** Throws an Error naming the line for anything that is not valid exposition text. */
export function parsePrometheusText(text: string): Sample[] {
  const out: Sample[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    if (line.startsWith('#')) {
      if (/^#\s+(HELP|TYPE)\s/.test(line) && line.startsWith('# TYPE') && !/^# TYPE \S+ (counter|gauge|histogram|summary|untyped)$/.test(line)) {
        throw new Error(`line ${i + 1}: bad TYPE line: ${line}`);
      }
      return;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`line ${i + 1}: not a sample: ${line}`);
    const labels: Record<string, string> = {};
    const body = m[3] ?? '';
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < body.length) {
      const start = LABEL.lastIndex;
      const lm = LABEL.exec(body);
      if (!lm || LABEL.lastIndex === start) throw new Error(`line ${i + 1}: bad labels: ${body}`);
      labels[lm[1]!] = lm[2]!.replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
    }
    const v = m[4]!;
    const value = v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v);
    if (Number.isNaN(value) && v !== 'NaN') throw new Error(`line ${i + 1}: bad value ${v}`);
    out.push({ name: m[1]!, labels, value });
  });
  return out;
}

/** Sums istio_requests_total by source_region → destination_region. */
export function requestsByRegion(samples: readonly Sample[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) {
    if (s.name !== 'istio_requests_total') continue;
    const src = s.labels['source_region'];
    const dst = s.labels['destination_region'];
    if (!src || !dst) continue;
    const k = `${src}->${dst}`;
    out[k] = (out[k] ?? 0) + s.value;
  }
  return out;
}
