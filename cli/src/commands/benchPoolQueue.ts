import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { measurePoolThroughput, parseQueueUrl, processCpuMs, RedisCpu, type PoolThroughput, type Scenario } from '@canopy/simulator';
import { BadInputError } from '@canopy/core/util';
import type { Output } from '../output.js';

const CANOPY_BIN = fileURLToPath(new URL('../../bin/canopy.js', import.meta.url));

/** Options of {@link runPoolQueueBench}. */
export interface PoolQueueBenchOptions {
  readonly queue: string;
  /** Worker process counts to measure, each against threads here at the same number of cores. */
  readonly workers: readonly number[];
  readonly rounds: number;
  /** Times the whole series is measured, interleaved: in-process and queue alternate. */
  readonly passes: number;
  /** Tasks each sim-worker takes beyond its thread (its --prefetch). */
  readonly prefetch?: number;
  readonly signal: AbortSignal;
}

interface Pair {
  readonly local: PoolThroughput;
  readonly queued: PoolThroughput;
  readonly load: readonly number[];
}

/**
 * `canopy bench pool --queue`: for each worker count n, the pool's throughput with min(n, cores)
 * threads in this process, then with n `canopy sim-worker` processes (one thread each) on
 * this machine through the Redis queue; the series is repeated `passes` times, so both sides
 * share the machine's load alike, and the summary takes medians. The overhead per task is the
 * extra wall time of the queue at equal cores, spread over the tasks each core ran; the queue's
 * own work per task (its report's overheadMsMean) is measured on the tasks themselves.
 */
export async function runPoolQueueBench(scenario: Scenario, options: PoolQueueBenchOptions, out: Output): Promise<void> {
  parseQueueUrl(options.queue);
  const cores = availableParallelism();
  const pairs = new Map<number, Pair[]>(options.workers.map((n) => [n, []]));
  const redisCpu = new RedisCpu(options.queue);
  try {
  for (let pass = 1; pass <= options.passes; pass++) {
    for (const n of options.workers) {
      if (options.signal.aborted) break;
      const threads = Math.min(n, cores);
      const load0 = loadavg()[0]!;
      const local = await measurePoolThroughput(scenario, { threads, rounds: options.rounds, signal: options.signal });
      const load1 = loadavg()[0]!;
      out.say(`pass ${pass}: in-process, ${threads} thread(s): ${local.samplesPerSecond.toLocaleString('en-US')} samples/s (load ${round2(load0)} → ${round2(load1)})`);
      out.record({ bench: 'pool', where: 'in-process', pass, ...local, loadAverage: [round2(load0), round2(load1)] });
      const workers = startWorkers(options.queue, n, options.prefetch);
      try {
        // The queue's CPU: this process, the workers' and Redis's.
        const cpuElsewhere = async () => workers.reduce((a, w) => a + (processCpuMs(w.pid ?? -1) ?? Number.NaN), 0) + (await redisCpu.ms());
        const queued = await measurePoolThroughput(scenario, { threads: n, rounds: options.rounds, signal: options.signal, queue: { url: options.queue, workers: n }, cpuElsewhere });
        const load2 = loadavg()[0]!;
        const perTaskMs = overheadMsPerTask(local, queued, threads);
        const overhead = round3(local.samplesPerSecond / queued.samplesPerSecond - 1);
        out.say(
          `pass ${pass}: queue, ${n} sim-worker process(es): ${queued.samplesPerSecond.toLocaleString('en-US')} samples/s; ` +
            `${(overhead * 100).toFixed(1)}% below ${threads} thread(s) here, ${perTaskMs} ms per task; the queue's own work ${queued.queue?.overheadMsMean ?? 0} ms per task; ` +
            `CPU ${queued.cpuMsPerTask} ms per task against ${local.cpuMsPerTask} (load ${round2(load2)})`,
        );
        out.record({ bench: 'pool', where: 'queue', pass, workers: n, ...queued, overheadVsInProcess: overhead, overheadMsPerTask: perTaskMs, loadAverage: [round2(load1), round2(load2)] });
        pairs.get(n)!.push({ local, queued, load: [load0, load1, load2] });
      } finally {
        await stopWorkers(workers);
      }
    }
  }
  } finally {
    redisCpu.close();
  }
  out.record({
    bench: 'pool',
    queue: true,
    cores,
    passes: options.passes,
    prefetch: options.prefetch ?? null,
    summary: [...pairs.entries()]
      .filter(([, ps]) => ps.length > 0)
      .map(([n, ps]) => {
        const threads = Math.min(n, cores);
        const local = median(ps.map((p) => p.local.samplesPerSecond));
        const queued = median(ps.map((p) => p.queued.samplesPerSecond));
        const loads = ps.flatMap((p) => p.load);
        return {
          workers: n,
          inProcessThreads: threads,
          inProcessSamplesPerSecond: local,
          queueSamplesPerSecond: queued,
          overheadVsInProcess: round3(local / queued - 1),
          overheadMsPerTask: median(ps.map((p) => overheadMsPerTask(p.local, p.queued, threads))),
          queueOwnWorkMsPerTask: median(ps.map((p) => p.queued.queue?.overheadMsMean ?? 0)),
          inProcessCpuMsPerTask: median(ps.map((p) => p.local.cpuMsPerTask)),
          queueCpuMsPerTask: median(ps.map((p) => p.queued.cpuMsPerTask)),
          loadAverage: [round2(Math.min(...loads)), round2(Math.max(...loads))],
        };
      }),
  });
}

// The queue's extra wall time at equal cores, spread over the tasks each core ran.
function overheadMsPerTask(local: PoolThroughput, queued: PoolThroughput, threads: number): number {
  return round2((((queued.seconds - local.seconds) * 1000) / local.fitJobs) * threads);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : round2((s[m - 1]! + s[m]!) / 2);
}

/** Parses `--workers 1,2,4`. */
export function workerCounts(text: string): number[] {
  const list = text.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1 || n > 64)) throw new BadInputError(`--workers: expected worker counts from 1 to 64 separated by commas, such as 1,2,4; found "${text}"`);
  return list;
}

function startWorkers(queue: string, n: number, prefetch: number | undefined): ChildProcess[] {
  const args = [...process.execArgv, CANOPY_BIN, 'sim-worker', '--queue', queue, '--threads', '1', ...(prefetch === undefined ? [] : ['--prefetch', String(prefetch)])];
  return Array.from({ length: n }, () => spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] }));
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
