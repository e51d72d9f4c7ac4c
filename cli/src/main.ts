// The `canopy` executable's entry (see bin/canopy.js).
import { main } from './program.js';

process.exitCode = await main(process.argv.slice(2));
