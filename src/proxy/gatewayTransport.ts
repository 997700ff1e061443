// Which transport the gateway's connections run on: libuv handles when this Node.js has the bindings in the shape
// handleTransport.ts expects, else net.Socket; `--transport` chooses explicitly.
import type { Transport, TransportName } from './conn.ts';
import { handleBindings, handleTransport } from './handleTransport.ts';
import { netTransport } from './netTransport.ts';

/** The transport to use and, when it is not the one asked for (or the default), why. */
export function pickTransport(wanted?: TransportName): { transport: Transport; fallback?: string } {
  if (wanted === 'net') return { transport: netTransport };
  const b = handleBindings();
  if (typeof b !== 'string') return { transport: handleTransport(b) };
  if (wanted === 'handles') throw new Error(`--transport handles cannot be used: ${b}; use --transport net`);
  return { transport: netTransport, fallback: b };
}
