// Prometheus metrics: every component registers its metrics on a Registry it is given (the control plane
// and each proxy own one and serve it as Prometheus text). prom-client does the exposition format. Its classes are
// imported module by module: the package's index loads Node's cluster module, default metrics and the push gateway
// too, which a sidecar never uses (they are the same classes: `import { Registry } from 'prom-client'` elsewhere
// gets these very modules).
import Counter from 'prom-client/lib/counter.js';
import Gauge from 'prom-client/lib/gauge.js';
import Histogram from 'prom-client/lib/histogram.js';
import Registry from 'prom-client/lib/registry.js';

export { Counter, Gauge, Histogram, Registry };

export function newRegistry(): Registry {
  return new Registry();
}

/** Returns the metric already registered under that name, or registers a new one (safe to call twice). */
export function metric<T>(registry: Registry, name: string, make: (registers: Registry[]) => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make([registry]);
}
