// The process entry of the `meshfed` command (bin/meshfed.js runs its build, dist/js/meshfed.js).
import { main } from './main.ts';

process.exitCode = await main(process.argv.slice(2));
