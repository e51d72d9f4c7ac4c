import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Command, Option } from 'commander';
import { parseScenario, PREFETCH, runSimWorker, scenarioJobHash } from '@canopy/simulator';
import { BadInputError, createLog } from '@canopy/core/util';
import { intArg } from '../args.js';

interface SimWorkerFlags {
  queue: string;
  threads: number;
  prefetch: number;
  scenario?: string;
  cacheMb: number;
  backend: 'auto' | 'tfjs-node' | 'wasm' | 'cpu';
}

/** `canopy sim-worker`: runs simulation compute tasks from a Redis queue (docs/SIMULATOR.md). */
export function simWorkerCommand(): Command {
  return new Command('sim-worker')
    .summary("run simulations' compute tasks from a Redis queue, on this machine")
    .description(
      'Takes the compute tasks (load data, initialise, train, evaluate) that `canopy simulate --queue`\n' +
        'puts in a BullMQ queue in Redis, runs them on compute threads here, and answers. Start any\n' +
        'number, on any machines that reach the Redis; each caches the data shards it has loaded.\n' +
        'A task of another Canopy version (or, with --scenario, of another scenario) goes back to\n' +
        'the queue and this worker stops with an error. Ctrl-C finishes the running tasks and stops.',
    )
    .requiredOption('--queue <redis-url>', 'the Redis to take tasks from: redis://HOST:PORT')
    .option('--threads <n>', 'compute threads, and tasks computed at once', intArg(1, 256), 1)
    .option('--prefetch <n>', "tasks taken beyond the threads: fetched while they compute, so a thread never waits on Redis (0: take one only when a thread is free)", intArg(0, 16), PREFETCH)
    .option('--scenario <file>', "serve only this scenario's tasks (its name, model and data)")
    .option('--cache-mb <n>', 'megabytes of data shards kept loaded', intArg(1, 1_000_000), 1024)
    .addOption(new Option('--backend <name>', 'training backend').choices(['auto', 'tfjs-node', 'wasm', 'cpu'] as const).default('auto'))
    .action(async (flags: SimWorkerFlags) => {
      let job: string | null = null;
      if (flags.scenario !== undefined) {
        let text: string;
        try {
          text = await readFile(flags.scenario, 'utf8');
        } catch (e) {
          throw new BadInputError(`--scenario: cannot read ${flags.scenario}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
        }
        job = scenarioJobHash(parseScenario(text, flags.scenario));
      }
      if (flags.threads > availableParallelism()) process.stderr.write(`canopy: warning: --threads ${flags.threads} is more than the ${availableParallelism()} cores here\n`);
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const done = await runSimWorker({
          url: flags.queue,
          threads: flags.threads,
          prefetch: flags.prefetch,
          job,
          cacheBytes: flags.cacheMb * 1024 * 1024,
          backend: flags.backend,
          log: createLog('sim-worker'),
          signal: abort.signal,
          onReady: (id) => process.stderr.write(`sim-worker ${id}: taking tasks from ${flags.queue} with ${flags.threads} thread(s)\n`),
        });
        process.stderr.write(`sim-worker ${done.id}: stopped after ${done.tasks} task(s)\n`);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
