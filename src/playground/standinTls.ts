// The serving TLS of a local API stand-in: a CA of its own and a certificate for 127.0.0.1, localhost and the
// address it listens on, made by the mesh CA's certificate builder (the stand-in takes it from its caller).
import { isIPv4 } from 'node:net';
import { caWithServingCert } from '../ca/x509.ts';
import type { TlsMaterial } from '../devcluster/types.ts';

export function standinTls(cluster: string, host = '127.0.0.1'): TlsMaterial {
  const ipAddresses = [...new Set(['127.0.0.1', ...(isIPv4(host) && host !== '0.0.0.0' ? [host] : [])])];
  return caWithServingCert({ caName: `${cluster}-devcluster-ca`, serverName: 'kube-apiserver', dnsNames: ['localhost', 'kubernetes.default.svc'], ipAddresses, days: 365 });
}
