import { Command, Option } from 'commander';
import { benchAggregate, benchTrain } from '@canopy/core/ml';
import { intArg } from '../args.js';
import { createOutput } from '../output.js';
import { fuzzManifests } from './manifestFuzz.js';

const MODELS = ['logreg', 'mlp', '2nn', 'cnn', 'mcmahan-cnn'] as const;
const BACKENDS = ['auto', 'tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] as const;
const ENGINES = ['auto', 'fast', 'tfjs'] as const;

/** `canopy bench`: micro-benchmarks that print one JSON line each. They are not tests. */
export function benchCommand(): Command {
  const bench = new Command('bench').summary('measure training and aggregation throughput').description('Benchmarks print one JSON line each (with --json) and compare against a baseline measured in the same process.');

  bench
    .command('train')
    .summary('local training throughput, samples/s')
    .addOption(new Option('--model <kind>', 'model').choices(MODELS).default('mlp'))
    .option('--batch <n>', 'batch size', intArg(1, 65_536), 32)
    .option('--seconds <s>', 'how long to measure after warm-up', intArg(1, 600), 5)
    .addOption(new Option('--backend <name>', 'tfjs backend').choices(BACKENDS).default('auto'))
    .addOption(new Option('--engine <name>', "training implementation: Canopy's compiled fast path or the tfjs layers").choices(ENGINES).default('auto'))
    .option('--threads <n>', 'threads splitting each batch (fast path only)', intArg(1, 32), 1)
    .option('--json', 'print {model, backend, engine, threads, batch, samplesPerSec, samplesPerCpuSec}', false)
    .action(async (flags: { model: (typeof MODELS)[number]; batch: number; seconds: number; backend: (typeof BACKENDS)[number]; engine: (typeof ENGINES)[number]; threads: number; json: boolean }) => {
      const out = createOutput({ json: flags.json });
      const r = await benchTrain({ model: flags.model, batch: flags.batch, seconds: flags.seconds, backend: flags.backend, engine: flags.engine, threads: flags.threads });
      out.say(`${r.model} on ${r.engine === 'fast' ? `the fast path, ${r.threads} thread(s)` : r.backend}, batch ${r.batch}: ${Math.round(r.samplesPerSec).toLocaleString('en-US')} samples/s (${Math.round(r.samplesPerCpuSec).toLocaleString('en-US')} per CPU-second)`);
      out.record({ model: r.model, backend: r.backend, engine: r.engine, threads: r.threads, batch: r.batch, samplesPerSec: Math.round(r.samplesPerSec), samplesPerCpuSec: Math.round(r.samplesPerCpuSec) });
    });

  bench
    .command('manifest-fuzz')
    .summary('the manifest parser against generated, mutated and hostile manifests')
    .description('Property-based fuzzing (fast-check): every input must parse or fail with a ManifestError. Prints one JSON line; exits 1 when any input threw anything else.')
    .option('--runs <n>', 'inputs to generate', intArg(1, 10_000_000), 10_000)
    .option('--seed <n>', 'fast-check seed', intArg(0, 2 ** 31 - 1), 1)
    .action((flags: { runs: number; seed: number }) => {
      const report = fuzzManifests({ runs: flags.runs, seed: flags.seed });
      process.stdout.write(`${JSON.stringify(report)}\n`);
      if (report.otherErrors > 0) process.exitCode = 1;
    });

  bench
    .command('aggregate')
    .summary('FedAvg throughput against memcpy of the same bytes')
    .option('--clients <n>', 'number of client vectors', intArg(1, 100_000), 100)
    .option('--params <p>', 'parameters per vector', intArg(1, 100_000_000), 1_663_370)
    .option('--json', 'print {clients, params, gbPerSec, memcpyGbPerSec, ratio}', false)
    .action(async (flags: { clients: number; params: number; json: boolean }) => {
      const out = createOutput({ json: flags.json });
      const r = await benchAggregate({ clients: flags.clients, params: flags.params });
      out.say(`FedAvg ${r.clients} × ${r.params.toLocaleString('en-US')} params: ${r.gbPerSec.toFixed(2)} GB/s; memcpy ${r.memcpyGbPerSec.toFixed(2)} GB/s; ratio ${r.ratio.toFixed(2)}`);
      out.record({ clients: r.clients, params: r.params, gbPerSec: r.gbPerSec, memcpyGbPerSec: r.memcpyGbPerSec, ratio: r.ratio });
    });

  return bench;
}
