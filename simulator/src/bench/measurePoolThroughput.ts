import { buildJobTree } from '@canopy/core/protocol';
import { CanopyError, ErrorCode } from '@canopy/core/util';
import { BlobStore } from '../run/blobStore.js';
import { RealTrainer } from '../run/realTrainer.js';
import type { Scenario } from '../scenario/scenario.js';
import { scenarioJobHash, scenarioManifest } from '../scenario/scenarioManifest.js';
import { QueuePool } from '../queue/queuePool.js';

/** Real-training throughput of the simulator's worker pool at one size. */
export interface PoolThroughput {
  readonly threads: number;
  readonly clients: number;
  /** Timed rounds: every client trains once per round, all queued at once as in a simulated round. */
  readonly rounds: number;
  readonly fitJobs: number;
  /** Samples trained, counting each epoch (what the threads report). */
  readonly samples: number;
  readonly seconds: number;
  readonly samplesPerSecond: number;
  /**
   * CPU milliseconds per fit job over the timed rounds, every thread of this process and of the
   * processes `cpuElsewhere` counts (the queue's Redis and workers): what a task costs in CPU,
   * which a busy machine inflates far less than wall time.
   */
  readonly cpuMsPerTask: number;
  /** On a queue: workers that ran tasks, the mean wait of a task and the queue's own work per task (all tasks, warm-up included). */
  readonly queue?: { readonly workers: number; readonly waitedMsMean: number; readonly overheadMsMean: number; readonly tasks: number };
}

/** Options of {@link measurePoolThroughput}. */
export interface PoolBenchOptions {
  /** Threads in the compute pool. */
  readonly threads: number;
  /** Instead of threads here: a queue of sim-workers (the pool waits until `workers` of them are live). */
  readonly queue?: { readonly url: string; readonly workers: number; readonly waitMs?: number };
  /** Timed rounds after one warm-up round (default 2). */
  readonly rounds?: number;
  /** CPU milliseconds used so far by the other processes taking part (sim-workers, Redis). */
  readonly cpuElsewhere?: () => Promise<number>;
  readonly signal?: AbortSignal;
}

/**
 * Measures real (tfjs) training throughput in a scenario's `mode: real` setting, through the
 * simulator's own RealTrainer and its pool of worker threads: every leaf client of the
 * scenario loads its shard into the pool, then each round every client's fit job is queued
 * at once, as the simulator queues a round's training, and the pool's threads take them
 * from the queue. One untimed round first warms tfjs up in every thread.
 */
export async function measurePoolThroughput(scenario: Scenario, options: PoolBenchOptions): Promise<PoolThroughput> {
  const manifest = scenarioManifest(scenario);
  const tree = buildJobTree(manifest);
  const clients = [...tree.shardIndex.keys()];
  const d = manifest.dataset;
  const store = new BlobStore();
  const queue = options.queue ? new QueuePool({ url: options.queue.url, job: scenarioJobHash(scenario) }) : undefined;
  const trainer = new RealTrainer(store, manifest.model, { source: d.source, partition: d.partition, seed: d.seed }, queue ?? options.threads);
  const job = tree.root;
  try {
    if (queue && options.queue) await queue.waitForWorkers(options.queue.workers, options.queue.waitMs ?? 120_000);
    await Promise.all(
      clients.map((c, index) =>
        trainer.loadData(c, { type: 'loadDataset', job, source: { kind: 'local', dataset: d.source, partition: d.partition, seed: d.seed, shard: { index, of: clients.length } } }),
      ),
    );
    const global = await trainer.init(clients[0]!, { type: 'initParams', job, model: manifest.model, seed: manifest.train.seed });
    const round = (r: number) =>
      Promise.all(clients.map((c, shard) => trainer.train(c, shard, { type: 'train', job, round: r, global, model: manifest.model, train: manifest.train })));
    await round(0);
    const rounds = options.rounds ?? 2;
    let samples = 0;
    const cpu = async () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000 + (options.cpuElsewhere ? await options.cpuElsewhere() : 0);
    };
    const cpu0 = await cpu();
    const t0 = performance.now();
    for (let r = 1; r <= rounds; r++) {
      if (options.signal?.aborted) throw new CanopyError(ErrorCode.Aborted, 'the pool benchmark was aborted');
      for (const outcome of await round(r)) samples += outcome.samples;
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpuMs = (await cpu()) - cpu0;
    const report = queue?.report();
    return {
      ...(report ? { queue: { workers: report.workers.length, waitedMsMean: report.waitedMsMean, overheadMsMean: report.overheadMsMean, tasks: report.tasks } } : {}),
      threads: trainer.threads,
      clients: clients.length,
      rounds,
      fitJobs: rounds * clients.length,
      samples,
      seconds: Math.round(seconds * 1000) / 1000,
      samplesPerSecond: Math.round(samples / seconds),
      cpuMsPerTask: Math.round((cpuMs / (rounds * clients.length)) * 10) / 10,
    };
  } finally {
    await trainer.close();
  }
}
