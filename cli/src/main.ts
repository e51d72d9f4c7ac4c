// The `canopy` executable's entry (see bin/canopy.js).
import { main, reportUnexpected } from './program.js';

// An error thrown where no command awaits it (a timer, a stream's callback) still ends the
// process with one line, not a stack trace.
const crash = (err: unknown) => {
  reportUnexpected(err);
  process.exit(1);
};
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);

process.exitCode = await main(process.argv.slice(2));
