// V8 settings per role, chosen by measurement (bench/footprint.bench.ts for the proxies) and written into the
// manifests and `meshfed install`'s output.

/**
 * Control plane (node flags on its command line):
 * - a larger young generation: replication and watch events make short-lived garbage that the default 16 MB
 *   semi-space promotes to the old generation before it dies;
 * - a smaller old-generation growing factor (1.3 instead of V8's dynamic 1.1–4): after each major GC V8 lets the old
 *   generation grow to a multiple of what survived before collecting again, and under the replication storm the
 *   garbage promoted in between doubled the heap.
 * bench/federation-e2e, 5 × 1,000 services, peak RSS: 528–539 MB with node's defaults, 437–630 MB with the
 * semi-space alone, 449–453 MB with both (replication time unchanged, 36–38 s).
 */

export const CONTROL_PLANE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64', '--heap-growing-percent=30'];

/**
 * Sidecar and gateway (one runs beside every pod, so every MB counts N times):
 * - a 1 MB semi-space: the proxies' garbage is per request and short-lived, a small young generation holds it;
 * - --optimize-for-size: V8 favours memory over speed where it has the choice (heap growth, inline caches);
 * - --single-threaded: no V8 helper threads for concurrent GC and compilation (their stacks and buffers);
 * - a 128 MB old generation cap: a bound, far above what a proxy holds (~8 MB of live heap with 50 services).
 * bench/footprint (2026-12-02, busy 2-core machine), idle RSS sidecar / gateway: node's defaults 70.0 / 67.9 MB;
 * semi-space + cap 67.1 / 64.2; + --optimize-for-size 65.1 / 63.5; all four 63.0 / 60.0 (anonymous memory 17.7 /
 * 15.3 MB, the rest is the node binary's shared code). --lite-mode would save 5 MB more but halves sidecar throughput
 * (bench/sidecar: 97 vs 216 req/s), and the four flags above left it unchanged (217/196 vs 250/186 req/s, in noise).
 * --no-opt (no TurboFan) would keep 3.4 MB of node's compiler code out of RSS but costs 40 % more CPU per request
 * (bench/footprint: 728 vs 510 µs in the calling sidecar); instead the proxies keep TurboFan out of start-up only
 * (src/proxy/startupTiering.ts). --gc-memory-reducer-start-delay-ms, --initial-old-space-size, --heap-growing-percent,
 * --no-flush-bytecode, MALLOC_ARENA_MAX=1 and UV_THREADPOOL_SIZE=1 changed idle RSS by less than 0.5 MB.
 */
export const PROXY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--max-old-space-size=128', '--optimize-for-size', '--single-threaded'];

/**
 * East-west gateway: one per region, not one per pod, and its work is new connections, so it keeps V8's helper
 * threads and speed-over-size choices and takes only the memory bounds. Connections whose cost is the proxy's own
 * (recorded ClientHello, one-byte backend, 64 clients, 30,000 connections; three paired runs, 2026-12-03): 3,366 /
 * 3,877 / 3,815 per second with these two flags, 2,865 / 3,560 / 3,698 with all four (+3 to +17 %). Idle RSS stays
 * under 60 MB either way (bench/footprint).
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--max-old-space-size=128'];
