/** Istio/protobuf duration strings: "1s", "250ms", "1.5s", "1m", "1h", "10us". Returns milliseconds, or an error text. */
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };

export function parseDuration(text: string): { ms: number } | { error: string } {
  const m = /^(\d+(?:\.\d+)?)(h|m|s|ms|us|µs|ns)$/.exec(text.trim());
  if (!m) return { error: `"${text}" is not a duration (use e.g. 1s, 250ms, 1.5s, 1m)` };
  const ms = Number(m[1]) * (UNIT_MS[m[2]!] ?? 0);
  if (!Number.isFinite(ms)) return { error: `"${text}" is out of range` };
  return { ms };
}

/** Envoy's google.protobuf.Duration JSON for protobufjs: {seconds, nanos}. */
export function toProtoDuration(ms: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}
