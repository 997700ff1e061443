// Prometheus metrics: every component registers its metrics on a Registry it is given (the control plane
// and each proxy own one and serve it as Prometheus text). prom-client does the exposition format.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Registry };

export function newRegistry(): Registry {
  return new Registry();
}

/** Returns the metric already registered under that name, or registers a new one (safe to call twice). */
export function metric<T>(registry: Registry, name: string, make: (registers: Registry[]) => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make([registry]);
}
