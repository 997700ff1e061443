// CA metrics on an injected prom-client Registry.
import { Counter, Histogram, type Registry } from 'prom-client';

export interface CaMetrics { issued: Counter; errors: Counter<'reason'>; signSeconds: Histogram }

export function caMetrics(registry: Registry): CaMetrics {
  return {
    issued: new Counter({ name: 'meshfed_ca_certificates_issued_total', help: 'Workload certificates issued', registers: [registry] }),
    errors: new Counter({ name: 'meshfed_ca_errors_total', help: 'CreateCertificate failures by reason', labelNames: ['reason'], registers: [registry] }),
    signSeconds: new Histogram({ name: 'meshfed_ca_signing_seconds', help: 'CSR parse + sign latency', buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05], registers: [registry] }),
  };
}
