import { Command, CommanderError } from 'commander';
import { CanopyError } from '@canopy/core/util';
import { fedavgCommand } from './commands/fedavg.js';
import { benchCommand } from './commands/bench.js';
import { simulateCommand } from './commands/simulate.js';
import { nodeCommand } from './commands/node.js';
import { idCommand } from './commands/id.js';
import { networkCommand } from './commands/network.js';
import { jobCommand } from './commands/job.js';
import { localCommand } from './commands/local.js';
import { benchBlobCommand } from './commands/benchBlob.js';
import { benchPoolCommand, benchSimulateCommand } from './commands/benchSimulate.js';
import { artifactCommand } from './commands/artifact.js';
import { simWorkerCommand } from './commands/simWorker.js';
import { validateCommand } from './commands/validate.js';
import { modelCommand } from './commands/model.js';

/** Builds the `canopy` program with every subcommand. */
export function createProgram(): Command {
  return new Command('canopy')
    .description('Canopy: hierarchical federated learning between peers.\nDocs: README.md and docs/CLI.md in the repository.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .addCommand(fedavgCommand())
    .addCommand(benchCommand().addCommand(benchBlobCommand()).addCommand(benchSimulateCommand()).addCommand(benchPoolCommand()))
    .addCommand(simulateCommand())
    .addCommand(simWorkerCommand())
    .addCommand(nodeCommand())
    .addCommand(idCommand())
    .addCommand(networkCommand())
    .addCommand(jobCommand())
    .addCommand(artifactCommand())
    .addCommand(localCommand())
    .addCommand(validateCommand())
    .addCommand(modelCommand());
}

/** Runs the CLI; user errors print one clear line (no stack trace) and exit non-zero. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = createProgram().exitOverride();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof CanopyError) {
      process.stderr.write(`canopy: ${err.message}\n`);
      // 124, as timeout(1) exits, lets a script tell a wait that ran out from a failure.
      return err.code === 'ABORTED' ? 130 : err.code === 'TIMEOUT' ? 124 : 1;
    }
    reportUnexpected(err);
    return 1;
  }
}

/**
 * Prints an error that no command turned into a {@link CanopyError} (a library's, the
 * system's) as one line: what failed, its code, and how to see the stack when it is a bug.
 */
export function reportUnexpected(err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as NodeJS.ErrnoException).code;
  const debug = Boolean(process.env.CANOPY_DEBUG);
  process.stderr.write(`canopy: ${e.name === 'Error' ? '' : `${e.name}: `}${firstLine(e.message)}${code ? ` (${code})` : ''}${debug ? '' : ' [CANOPY_DEBUG=1 shows where]'}\n`);
  if (debug) process.stderr.write(`${e.stack ?? ''}\n`);
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}

