import { Command, Option } from 'commander';
import { benchAggregate, benchTrain } from '@canopy/core/ml';
import { measureSecAgg } from '@canopy/simulator';
import { BadInputError } from '@canopy/core/util';
import { intArg } from '../args.js';
import { createOutput } from '../output.js';
import { fuzzManifests } from './manifestFuzz.js';
import { benchRetention } from './benchRetention.js';
import { benchKillCorrupt } from './benchKillCorrupt.js';

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

  bench
    .command('secagg')
    .summary('secure aggregation (SecAgg+) against a plain round: bytes per client and compute time')
    .description('One round per client count, in this process: every SecAgg+ message is built and passed as bytes. Prints one JSON line per count; exits 1 if a secure sum is not exact.')
    .option('--clients <list>', 'comma-separated client counts', '10,100,1000')
    .option('--params <p>', 'parameters per update (101770: the MLP 784-128-10)', intArg(1, 100_000_000), 101_770)
    .option('--drop <fraction>', 'fraction of clients that drop out', '0.3')
    .addOption(new Option('--drop-point <step>', 'when they drop out').choices(['beforeShare', 'beforeMask', 'beforeReveal']).default('beforeMask'))
    .option('--seed <n>', 'seed of the updates, keys and dropouts', intArg(0, 2 ** 31 - 1), 1)
    .option('--json', 'print the measurements as JSON lines', false)
    .action(async (flags: { clients: string; params: number; drop: string; dropPoint: 'beforeShare' | 'beforeMask' | 'beforeReveal'; seed: number; json: boolean }) => {
      const out = createOutput({ json: flags.json });
      const counts = flags.clients.split(',').map((c) => Number(c));
      const drop = Number(flags.drop);
      if (counts.some((c) => !Number.isInteger(c) || c < 3) || !(drop >= 0 && drop < 1)) {
        throw new BadInputError(`--clients takes integers of at least 3 and --drop a fraction in [0, 1), got ${flags.clients} and ${flags.drop}`);
      }
      for (const clients of counts) {
        const m = await measureSecAgg({ clients, params: flags.params, dropFraction: drop, dropPoint: flags.dropPoint, seed: flags.seed });
        out.say(`${clients} clients, k=${m.neighbours}, t=${m.threshold}, ${m.dropped} dropped ${m.dropPoint}: ${m.ratioSent.toFixed(3)}x plain upload, ${m.ratioTotal.toFixed(3)}x plain traffic; client ${m.secure.clientMsMean.toFixed(0)} ms, server ${m.secure.serverMs.toFixed(0)} ms (plain ${m.plain.serverMs.toFixed(0)} ms); exact ${m.exact}`);
        out.record({ ...m });
        if (!m.exact) process.exitCode = 1;
      }
    });

  bench
    .command('retention')
    .summary("a synthetic job's data dir per node, measured after every round (blob retention)")
    .option('--rounds <n>', 'rounds of the job', intArg(1, 100_000), 200)
    .option('--keep-rounds <k>', 'rounds a parameter blob stays after its last use (1,000,000: no retention, the baseline)', intArg(0, 1_000_000), 2)
    .option('--params <p>', 'parameters per model (199,210: the 2NN)', intArg(1, 100_000_000), 199_210)
    .option('--json', 'print {rounds, keepRounds, params, blobBytes, wallSeconds, stopReason, nodes: {name: {maxBytes, endBytes}}, maxNodeBytes}', false)
    .action(async (flags: { rounds: number; keepRounds: number; params: number; json: boolean }) => {
      const out = createOutput({ json: flags.json });
      const r = await benchRetention(flags);
      out.say(`${r.rounds} rounds (${r.stopReason}), keep ${r.keepRounds} rounds, blobs of ${r.blobBytes} bytes: largest data dir ${(r.maxNodeBytes / 2 ** 20).toFixed(1)} MiB; per node max/end MiB: ${Object.entries(r.nodes).map(([n, v]) => `${n} ${(v.maxBytes / 2 ** 20).toFixed(1)}/${(v.endBytes / 2 ** 20).toFixed(1)}`).join(', ')}; ${r.wallSeconds.toFixed(0)} s`);
      out.record(r);
    });

  bench
    .command('kill-corrupt')
    .summary("a job one of whose nodes (root host, client, worker, distributor) is stopped at a random moment and its data dir damaged, again and again: each must end")
    .option('--runs <n>', 'iterations', intArg(1, 100_000), 50)
    .option('--seed <n>', 'seed of the moments and faults', intArg(0, 2 ** 31 - 1), 1)
    .option('--json', 'print one JSON line per run and a final {runs, seed, undisturbedFinal, counts, killed, byVictim, stalled, wallSeconds}', false)
    .action(async (flags: { runs: number; seed: number; json: boolean }) => {
      const out = createOutput({ json: flags.json });
      const r = await benchKillCorrupt(flags, (run) => {
        out.say(`run ${run.run}: ${run.victim} ${run.killed ? `killed after ${run.killAfterMs} ms, ${run.fault}` : 'finished before its kill'}: ${run.outcome}${run.reason ? ` (${run.reason})` : ''}`);
        out.record(run);
      });
      out.say(`${r.runs} runs (${r.killed} killed and damaged mid-job): ${r.counts.finished} finished with the undisturbed final model, ${r.counts['other-final']} with another, ${r.counts.failed} failed with a reason, ${r.counts.stalled} stalled; ${r.wallSeconds.toFixed(0)} s`);
      out.record(r);
      if (r.counts.stalled > 0) process.exitCode = 1;
    });

  return bench;
}
