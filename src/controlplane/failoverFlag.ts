// `--failover us-east=us-west,eu-west;us-west=us-east` → region → failover order. Pure.

export function parseFailoverFlag(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const part of text.split(';').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([a-z0-9][-a-z0-9.]*)=([a-z0-9][-a-z0-9.,]*)$/i.exec(part);
    if (!m) throw new Error(`--failover: "${part}" is not REGION=NEXT[,NEXT…] (example: us-east=us-west;us-west=us-east)`);
    const [, region, list] = m;
    if (out[region!]) throw new Error(`--failover: region "${region}" is given twice`);
    const next = list!.split(',').filter(Boolean);
    if (next.includes(region!)) throw new Error(`--failover: region "${region}" cannot fail over to itself`);
    out[region!] = next;
  }
  return out;
}
