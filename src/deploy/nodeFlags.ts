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

/** sidecar and gateway: a small young generation and a bounded old generation, runs beside every pod */
export const PROXY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--max-old-space-size=96'];
