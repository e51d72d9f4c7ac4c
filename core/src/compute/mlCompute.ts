import type { BackendPreference } from '../ml/backend.js';
import { encodeDataChunk, splitForMembers } from '../ml/dataChunk.js';
import { loadDataset } from '../ml/data/loadDataset.js';
import { paramCount } from '../ml/layout.js';
import type { ModelSpec } from '../spec/ml.js';
import { ComputePool } from './computePool.js';
import { throwIfAborted } from '../util/errors.js';
import type { ComputeBackend, ComputeTaskOptions, TrainProgress } from './computeBackend.js';

const signalOf = (opts: ComputeTaskOptions | undefined): { signal?: AbortSignal } => (opts?.signal ? { signal: opts.signal } : {});

/**
 * Real training on compute threads (ComputePool), so a node that trains still answers gossip
 * and heartbeats on its event loop. Data is pinned to a thread by key, so every task on a
 * member's data runs where that data is loaded.
 */
export function mlCompute({ threads = 1, backend = 'auto' }: { threads?: number; backend?: BackendPreference } = {}): ComputeBackend {
  // Threads start on first use: hosts and distributors never train, and a thread loading tfjs
  // costs a second of CPU and ~100 MB, which matters with many nodes on one machine.
  let started: ComputePool | undefined;
  const pool = { run: ((...args: Parameters<ComputePool['run']>) => (started ??= ComputePool.start({ size: threads, backend })).run(...args)) as ComputePool['run'] };
  return {
    kind: 'ml',
    loadData: async ({ key, source }, opts) => {
      // A chunk's buffer is copied into the thread: the caller may still hold it.
      const r = await pool.run('loadData', { key, source }, { affinity: key, ...signalOf(opts) });
      return { train: r.train, test: r.test };
    },
    initParams: async ({ model, seed }, opts) => (await pool.run('initParams', { model, seed }, signalOf(opts))).params,
    train: async ({ key, model, train, global, seed }, opts) => {
      const onProgress = opts?.onProgress;
      const r = await pool.run('train', { key, model, train, global, seed }, { affinity: key, ...signalOf(opts), ...(onProgress ? { onProgress: (p) => onProgress(p as TrainProgress) } : {}) });
      return { params: r.params, samples: r.samples, loss: r.loss, accuracy: r.accuracy, samplesPerSec: r.samplesPerSec, backend: r.backend };
    },
    evaluate: ({ key, model, params }, opts) => pool.run('evaluate', { key, model, params }, { affinity: key, ...signalOf(opts) }),
    aggregate: async ({ stateKey, model, aggregator, base, inputs }, opts) =>
      // Server-optimiser state lives on the thread, so one job's aggregations stay on one thread.
      (await pool.run('aggregate', { stateKey, model, aggregator, base, inputs: [...inputs] }, { affinity: `agg:${stateKey}`, ...signalOf(opts) })).params,
    prepareChunks: async ({ dataset, partition, seed, shards }, opts) => {
      // The same split a member derives for a local shard (mlTasks: names "0".."n-1").
      const full = await loadDataset(dataset, { seed });
      throwIfAborted(opts?.signal, 'preparing dataset chunks');
      const names = Array.from({ length: shards }, (_, i) => String(i));
      const parts = splitForMembers(full, names, partition, seed);
      return names.map((n) => {
        const part = parts.get(n)!;
        return { bytes: encodeDataChunk(part), train: part.train.count, test: part.test.count };
      });
    },
    paramsLimit: (model: ModelSpec) => paramCount(model) * 4 + (1 << 20),
    stop: async () => {
      await started?.stop();
    },
  };
}
