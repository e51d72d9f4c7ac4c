import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { measurePoolThroughput, parseQueueUrl, type PoolThroughput, type Scenario } from '@canopy/simulator';
import { BadInputError } from '@canopy/core/util';
import type { Output } from '../output.js';

const CANOPY_BIN = fileURLToPath(new URL('../../bin/canopy.js', import.meta.url));

/** Options of {@link runPoolQueueBench}. */
export interface PoolQueueBenchOptions {
  readonly queue: string;
  /** Worker process counts to measure, each against threads here at the same number of cores. */
  readonly workers: readonly number[];
  readonly rounds: number;
  readonly signal: AbortSignal;
}

/**
 * `canopy bench pool --queue`: for each worker count n, the pool's throughput with min(n, cores)
 * threads in this process, then with n `canopy sim-worker` processes (one thread each) on
 * this machine through the Redis queue, interleaved. The overhead per task is the extra
 * wall time of the queue at equal cores, spread over the tasks each core ran.
 */
export async function runPoolQueueBench(scenario: Scenario, options: PoolQueueBenchOptions, out: Output): Promise<void> {
  parseQueueUrl(options.queue);
  const cores = availableParallelism();
  const results: Array<{ workers: number; threads: number; local: PoolThroughput; queued: PoolThroughput }> = [];
  for (const n of options.workers) {
    if (options.signal.aborted) break;
    const threads = Math.min(n, cores);
    const load0 = loadavg()[0]!;
    const local = await measurePoolThroughput(scenario, { threads, rounds: options.rounds, signal: options.signal });
    out.say(`in-process, ${threads} thread(s): ${local.samplesPerSecond.toLocaleString('en-US')} samples/s`);
    out.record({ bench: 'pool', where: 'in-process', ...local, loadAverage: [round2(load0), round2(loadavg()[0]!)] });
    const workers = startWorkers(options.queue, n);
    try {
      const load1 = loadavg()[0]!;
      const queued = await measurePoolThroughput(scenario, { threads: n, rounds: options.rounds, signal: options.signal, queue: { url: options.queue, workers: n } });
      const perTaskMs = round2((((queued.seconds - local.seconds) * 1000) / local.fitJobs) * threads);
      const overhead = round3(local.samplesPerSecond / queued.samplesPerSecond - 1);
      out.say(
        `queue, ${n} sim-worker process(es): ${queued.samplesPerSecond.toLocaleString('en-US')} samples/s; ` +
          `${(overhead * 100).toFixed(1)}% slower than ${threads} thread(s) here, ${perTaskMs} ms per task`,
      );
      out.record({ bench: 'pool', where: 'queue', workers: n, ...queued, overheadVsInProcess: overhead, overheadMsPerTask: perTaskMs, loadAverage: [round2(load1), round2(loadavg()[0]!)] });
      results.push({ workers: n, threads, local, queued });
    } finally {
      await stopWorkers(workers);
    }
  }
  out.record({
    bench: 'pool',
    queue: true,
    cores,
    summary: results.map((r) => ({
      workers: r.workers,
      inProcessThreads: r.threads,
      inProcessSamplesPerSecond: r.local.samplesPerSecond,
      queueSamplesPerSecond: r.queued.samplesPerSecond,
      overheadVsInProcess: round3(r.local.samplesPerSecond / r.queued.samplesPerSecond - 1),
      overheadMsPerTask: round2((((r.queued.seconds - r.local.seconds) * 1000) / r.local.fitJobs) * r.threads),
    })),
  });
}

/** Parses `--workers 1,2,4`. */
export function workerCounts(text: string): number[] {
  const list = text.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1 || n > 64)) throw new BadInputError(`--workers: expected worker counts from 1 to 64 separated by commas, such as 1,2,4; found "${text}"`);
  return list;
}

function startWorkers(queue: string, n: number): ChildProcess[] {
  return Array.from({ length: n }, () => spawn(process.execPath, [...process.execArgv, CANOPY_BIN, 'sim-worker', '--queue', queue, '--threads', '1'], { stdio: ['ignore', 'ignore', 'inherit'] }));
}

// SIGTERM lets a worker finish and leave the queue; one that does not within 10 s is killed.
async function stopWorkers(workers: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.exitCode !== null || w.signalCode !== null) return resolve();
          const kill = setTimeout(() => w.kill('SIGKILL'), 10_000);
          w.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          w.kill('SIGTERM');
        }),
    ),
  );
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
