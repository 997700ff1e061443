// Both gateway transports, for tests that must hold on each: libuv handles (the default) and net.Socket (the fallback).
import { pickTransport } from '../../src/proxy/gatewayTransport.ts';
import { netTransport } from '../../src/proxy/netTransport.ts';
import type { Transport } from '../../src/proxy/conn.ts';

export const TRANSPORTS: readonly Transport[] = [pickTransport('handles').transport, netTransport];
