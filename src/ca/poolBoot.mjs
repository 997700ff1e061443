// Worker entry for src/ca/pool.ts: workers do not inherit a loader registered with tsx's register() API
// (bin/meshfed.js), so register it here before loading the TypeScript worker.
import { register } from 'tsx/esm/api';
register();
await import('./poolWorker.ts');
