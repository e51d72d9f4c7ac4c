import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { measurePoolThroughput, measureScale, median, parseScenario, withRounds, type Scenario, type ScaleMeasurement } from '@canopy/simulator';
import { BadInputError, CanopyError, ErrorCode } from '@canopy/core/util';
import { intArg } from '../args.js';
import { createOutput } from '../output.js';
import { runPoolQueueBench, workerCounts } from './benchPoolQueue.js';

const CANOPY_BIN = fileURLToPath(new URL('../../bin/canopy.js', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../../../examples/scenarios/', import.meta.url));
const SIZES = ['1k', '10k', '50k'] as const;

interface SimulateBenchFlags {
  sizes: string;
  rounds?: number;
  runs: number;
  scenarios: string;
  one?: string;
  json: boolean;
}

/**
 * `canopy bench simulate`: issue #5's scale benchmark. Runs scale-1k, scale-10k and scale-50k
 * (examples/scenarios), each in its own process so that peak RSS is that size's alone, and
 * prints per size the wall seconds per round, peak RSS and events per second.
 */
export function benchSimulateCommand(): Command {
  return new Command('simulate')
    .summary('simulator scale: wall s per round, peak RSS, events/s at 1k, 10k, 50k clients')
    .description(
      'Runs the scale scenarios (a 3-level tree, 3 workers per cluster, synthetic P = 10,000) one\n' +
        'process per size and run, and prints one JSON line per size (with --json). Not a test:\n' +
        'the machine may be shared, so the load average is printed beside the numbers.',
    )
    .option('--sizes <list>', `comma-separated sizes among ${SIZES.join(', ')}`, SIZES.join(','))
    .option('--rounds <n>', "root rounds per run (default: the scenario's, 5)", intArg(1, 1000))
    .option('--runs <n>', 'runs per size; min and median are reported', intArg(1, 20), 1)
    .option('--scenarios <dir>', 'folder of scale-<size>.yaml files', EXAMPLES)
    .addOption(new Option('--one <scenario.yaml>', 'internal: measure one scenario in this process and print its JSON').hideHelp())
    .option('--json', 'print one JSON line per size, then one for the machine', false)
    .action(async (flags: SimulateBenchFlags) => {
      if (flags.one !== undefined) {
        const m = await measureScale(withRounds(await readScenario(flags.one), flags.rounds));
        process.stdout.write(`${JSON.stringify(m)}\n`);
        return;
      }
      await runScaleBench(flags);
    });
}

async function runScaleBench(flags: SimulateBenchFlags): Promise<void> {
  const out = createOutput({ json: flags.json });
  const sizes = flags.sizes.split(',').map((s) => s.trim());
  for (const s of sizes) {
    if (!(SIZES as readonly string[]).includes(s)) throw new BadInputError(`--sizes: unknown size "${s}"; expected some of ${SIZES.join(', ')}`);
    const file = join(flags.scenarios, `scale-${s}.yaml`);
    if (!existsSync(file)) throw new BadInputError(`--scenarios: ${file} does not exist`);
  }
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  try {
    for (const size of sizes) {
      const file = join(flags.scenarios, `scale-${size}.yaml`);
      const runs: ScaleMeasurement[] = [];
      const loadBefore = loadavg()[0]!;
      for (let i = 0; i < flags.runs; i++) {
        out.say(`scale-${size}: run ${i + 1} of ${flags.runs}...`);
        runs.push(await measureInChild(file, flags.rounds, abort.signal));
      }
      const loadAfter = loadavg()[0]!;
      const per = runs.map((r) => r.wallSecondsPerRound);
      const first = runs[0]!;
      const line = {
        bench: 'simulate',
        scenario: first.scenario,
        clients: first.clients,
        members: first.members,
        rounds: first.rounds,
        runs: runs.length,
        wallSecondsPerRound: Math.min(...per),
        wallSecondsPerRoundMedian: round3(median(per)),
        firstRoundWallSeconds: Math.min(...runs.map((r) => r.firstRoundWallSeconds)),
        laterRoundWallSeconds: first.laterRoundWallSeconds === null ? null : Math.min(...runs.map((r) => r.laterRoundWallSeconds!)),
        cpuSecondsPerRound: round3(median(runs.map((r) => r.cpuSeconds / Math.max(1, r.rounds)))),
        peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)),
        eventsPerSecond: Math.round(median(runs.map((r) => r.eventsPerSecond))),
        events: first.events,
        messages: first.messages,
        virtualSeconds: first.virtualSeconds,
        finalHash: first.finalHash,
        loadAverage: [round2(loadBefore), round2(loadAfter)],
        allRuns: runs.map((r) => ({ wallSeconds: r.wallSeconds, cpuSeconds: r.cpuSeconds, peakRssMb: r.peakRssMb })),
      };
      out.say(
        `scale-${size}: ${line.clients.toLocaleString('en-US')} clients, ${line.rounds} round(s): ${line.wallSecondsPerRound} s/round (median ${line.wallSecondsPerRoundMedian}; ` +
          `round 1 incl. setup ${line.firstRoundWallSeconds} s${line.laterRoundWallSeconds === null ? '' : `, later rounds ${line.laterRoundWallSeconds} s`}), peak RSS ${line.peakRssMb} MB, ` +
          `${line.eventsPerSecond.toLocaleString('en-US')} events/s, load ${line.loadAverage.join(' → ')}`,
      );
      out.record(line);
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
  out.record({ bench: 'simulate', machine: machine() });
}

// One scenario in a fresh process: its peak RSS is then its own.
function measureInChild(file: string, rounds: number | undefined, signal: AbortSignal): Promise<ScaleMeasurement> {
  const args = [...process.execArgv, CANOPY_BIN, 'bench', 'simulate', '--one', file, ...(rounds === undefined ? [] : ['--rounds', String(rounds)])];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], signal });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => reject(signal.aborted ? new CanopyError(ErrorCode.Aborted, 'benchmark aborted') : e));
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) {
        reject(new Error(`measuring ${file} failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' | ') || 'no output'}`));
        return;
      }
      resolve(JSON.parse(last) as ScaleMeasurement);
    });
  });
}

interface PoolBenchFlags {
  scenario: string;
  threads: number;
  queue?: string;
  workers: string;
  passes: number;
  prefetch?: number;
  rounds: number;
  epochs?: number;
  json: boolean;
}

/**
 * `canopy bench pool`: real-training throughput of the simulator's worker pool at one thread
 * and at N, in one process, on a scenario's clients (default: examples/scenarios/default.yaml).
 */
export function benchPoolCommand(): Command {
  return new Command('pool')
    .summary('real-training throughput of the simulator worker pool: 1 thread against N')
    .description(
      "Loads every client's shard of a `mode: real` scenario into the simulator's pool of worker\n" +
        "threads, then queues each round's fit jobs at once, as a simulated round does; first with\n" +
        'one thread, then with --threads, in the same process. Prints samples/s of each and the ratio.',
    )
    .option('--scenario <file>', 'a scenario with `training: { mode: real }`', join(EXAMPLES, 'default.yaml'))
    .option('--threads <n>', 'threads of the second measurement (default: one per core)', intArg(1, 256), availableParallelism())
    .option('--rounds <n>', 'timed rounds per measurement, after one warm-up round', intArg(1, 100), 2)
    .option('--epochs <n>', "local epochs per fit job (default: the scenario's); longer jobs show the pool's scaling", intArg(1, 1000))
    .option('--queue <redis-url>', 'also measure the queue: sim-worker processes here through this Redis (redis://HOST:PORT), against threads at equal cores')
    .option('--workers <list>', 'with --queue: sim-worker process counts to measure', '1,2,4')
    .option('--passes <n>', 'with --queue: times the series is measured, in-process and queue interleaved (medians in the summary)', intArg(1, 100), 1)
    .option('--prefetch <n>', "with --queue: each sim-worker's --prefetch (default: its own)", intArg(0, 16))
    .option('--json', 'print one JSON line per thread count, then {ratio}', false)
    .action(async (flags: PoolBenchFlags) => {
      const out = createOutput({ json: flags.json });
      const read = await readScenario(flags.scenario);
      const scenario = flags.epochs === undefined ? read : { ...read, job: { ...read.job, train: { ...read.job.train, epochs: flags.epochs } } };
      if (scenario.training.mode !== 'real') {
        throw new BadInputError(`--scenario: ${flags.scenario} trains in mode ${scenario.training.mode}; the pool benchmark needs \`training: { mode: real }\``);
      }
      const abort = new AbortController();
      const onSigint = () => abort.abort();
      process.once('SIGINT', onSigint);
      try {
        if (flags.queue !== undefined) {
          await runPoolQueueBench(scenario, { queue: flags.queue, workers: workerCounts(flags.workers), rounds: flags.rounds, passes: flags.passes, ...(flags.prefetch !== undefined ? { prefetch: flags.prefetch } : {}), signal: abort.signal }, out);
          return;
        }
        const results = [];
        for (const threads of [1, flags.threads]) {
          const loadBefore = loadavg()[0]!;
          const r = await measurePoolThroughput(scenario, { threads, rounds: flags.rounds, signal: abort.signal });
          const line = { bench: 'pool', scenario: scenario.name, model: scenario.job.model.kind, epochs: scenario.job.train.epochs, ...r, loadAverage: [round2(loadBefore), round2(loadavg()[0]!)] };
          out.say(`${threads} thread(s): ${r.fitJobs} fit jobs, ${r.samples.toLocaleString('en-US')} samples × epochs in ${r.seconds} s = ${r.samplesPerSecond.toLocaleString('en-US')} samples/s`);
          out.record(line);
          results.push(r);
        }
        const ratio = round2(results[1]!.samplesPerSecond / results[0]!.samplesPerSecond);
        out.say(`${flags.threads} threads against 1: ${ratio}×`);
        out.record({ bench: 'pool', threads: flags.threads, ratio, machine: machine() });
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}

async function readScenario(file: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new BadInputError(`cannot read the scenario ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return parseScenario(text, file);
}

function machine(): { cpus: number; cpuModel: string; node: string } {
  return { cpus: availableParallelism(), cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
