// One pino logger for every component: JSON, one event per line, secrets redacted.
import { pino, type Logger } from 'pino';

export type { Logger };

const REDACT = [
  'token', '*.token', 'authorization', '*.authorization', 'headers.authorization',
  'key', '*.key', 'privateKey', '*.privateKey', 'kubeconfig', '*.kubeconfig', 'password', '*.password',
];

export function createLogger(component: string, opts: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = opts.level ?? process.env.MESHFED_LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'silent' : 'info');
  return pino(
    { name: 'meshfed', level, base: { component }, redact: { paths: REDACT, censor: '[redacted]' }, timestamp: pino.stdTimeFunctions.isoTime },
    (opts.destination ?? process.stderr) as pino.DestinationStream,
  );
}
