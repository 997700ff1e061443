// The process entry of the `meshfed` command (bin/meshfed.js runs its build, dist/js/meshfed.js).
import { raiseForStartup } from '../proxy/startupTiering.ts';

// a proxy's start-up work should not wake V8's optimizing compiler (src/proxy/startupTiering.ts); set before the
// command's modules load, since resolving them is part of that work
const command = process.argv[2];
if (command === 'sidecar' || command === 'gateway') raiseForStartup();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
