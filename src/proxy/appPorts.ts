// Pure: which app port an inbound connection is for. The caller's SNI `outbound_.<port>_.<subset>_.<host>` names
// the service port; `--app-ports 8080:80,9090:9000` maps service ports to the app's ports; else --app-port.
import { parseGatewaySni } from '../mesh/names.ts';

export type AppPorts = ReadonlyMap<number, number>;

/** "8080:80,9090:9000" → {8080→80, 9090→9000}. Throws a clear error on a bad entry. */
export function parseAppPorts(spec: string): AppPorts {
  const out = new Map<number, number>();
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d{1,5}):(\d{1,5})$/.exec(part);
    const svc = Number(m?.[1]);
    const app = Number(m?.[2]);
    if (!m || svc < 1 || svc > 65535 || app < 1 || app > 65535) throw new Error(`--app-ports entry "${part}" is not SERVICE_PORT:APP_PORT (1-65535), e.g. 8080:80`);
    if (out.has(svc)) throw new Error(`--app-ports maps service port ${svc} twice`);
    out.set(svc, app);
  }
  return out;
}

/** `<host>:<service port>` → the app port pilot sends for this workload (EDS metadata, see inboundAppPorts). */
export type XdsAppPorts = ReadonlyMap<string, number>;

/**
 * The app port for a connection that arrived with this SNI: the operator's --app-ports first, then what pilot says
 * this workload listens on for that service and port (the EndpointSlice port), else the default --app-port.
 */
export function appPortForSni(sni: string | false | null | undefined, ports: AppPorts | undefined, fallback: number, fromXds?: XdsAppPorts): number {
  if (!sni) return fallback;
  const p = parseGatewaySni(sni);
  if (!p) return fallback;
  return ports?.get(p.port) ?? fromXds?.get(`${p.host}:${p.port}`) ?? fallback;
}

/** "app=web,version=v2" → labels. Throws a clear error on a bad entry (Kubernetes label syntax, loosely). */
export function parseLabels(spec: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z0-9A-Z]([-a-z0-9A-Z_./]*[a-z0-9A-Z])?)=([-a-z0-9A-Z_.]{0,63})$/.exec(part);
    if (!m) throw new Error(`--labels entry "${part}" is not KEY=VALUE (Kubernetes label syntax), e.g. version=v2`);
    out[m[1]!] = m[3]!;
  }
  return out;
}
