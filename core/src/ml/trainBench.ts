import { Rng } from '../util/rng.js';
import { initBackend, type BackendPreference } from './backend.js';
import { createModel } from './models.js';
import type { BuiltinModelKind as ModelKind, ModelSpec, TrainSpec } from '../spec/ml.js';
import { trainLocal, type TrainEngine } from './train.js';
import type { LabeledData } from './types.js';

/** What to measure with {@link benchTrain}. */
export interface TrainBenchOptions {
  readonly model: ModelKind;
  /** Batch size (default 32, the size of the PyTorch reference numbers). */
  readonly batch?: number;
  /** Approximate length of the measured run (default 3 s), after a warm-up. */
  readonly seconds?: number;
  /** Backend preference (default 'auto'). */
  readonly backend?: BackendPreference;
  /** Training implementation (default 'auto': the fast path where it applies). */
  readonly engine?: TrainEngine;
  /** Threads splitting each batch on the fast path (default 1). */
  readonly threads?: number;
}

/** Steady-state local training throughput of one model on one backend. */
export interface TrainBenchResult {
  readonly model: ModelKind;
  readonly backend: string;
  /** 'fast' (Canopy's compiled step) or 'tfjs'. */
  readonly engine: string;
  /** Threads that trained (always 1 on tfjs). */
  readonly threads: number;
  readonly batch: number;
  readonly samplesPerSec: number;
  /**
   * Samples per second of this process's CPU time (user + system) over the measured run: on a
   * shared machine it shows what the code costs when other processes take turns on the cores.
   */
  readonly samplesPerCpuSec: number;
}

// Enough distinct samples that batches differ; longer runs loop over them as further epochs.
const POOL = 2048;

/**
 * Measures training throughput on synthetic 28×28 digits-shaped data with 10 classes. It runs
 * the real {@link trainLocal} (plain SGD), so it measures exactly the code path members train
 * with: a short warm-up call (kernel setup, XNNPACK operator caches, JIT), then one call sized
 * from the warm-up to last about `seconds`.
 */
export async function benchTrain(opts: TrainBenchOptions): Promise<TrainBenchResult> {
  const batch = opts.batch ?? 32;
  const seconds = opts.seconds ?? 3;
  const backend = await initBackend(opts.backend ?? 'auto');
  const spec: ModelSpec = { kind: opts.model, inputShape: [28, 28, 1], numClasses: 10 };
  const data = syntheticDigits(POOL, 1);
  const model = createModel(spec, 1);
  try {
    const engine = opts.engine ?? 'auto';
    const warmup = await trainLocal(model, slice(data, Math.min(POOL, batch * 20)), trainSpec(batch, 1), { engine, threads: opts.threads });
    const samples = Math.max(batch * 10, warmup.samplesPerSec * seconds);
    const epochs = Math.max(1, Math.round(samples / POOL));
    const pool = samples < POOL ? slice(data, Math.ceil(samples / batch) * batch) : data;
    const cpu = process.cpuUsage();
    const run = await trainLocal(model, pool, trainSpec(batch, epochs), { engine, threads: opts.threads });
    const used = process.cpuUsage(cpu);
    return {
      model: opts.model,
      backend: backend.name,
      engine: run.engine ?? 'tfjs',
      threads: run.engine === 'fast' ? (opts.threads ?? 1) : 1,
      batch,
      samplesPerSec: run.samplesPerSec,
      samplesPerCpuSec: run.samples / ((used.user + used.system) / 1e6),
    };
  } finally {
    model.dispose();
  }
}

function trainSpec(batchSize: number, epochs: number): TrainSpec {
  // A small learning rate keeps the synthetic run numerically tame; speed does not depend on it.
  return { optimizer: { kind: 'sgd', lr: 0.001, momentum: 0 }, epochs, batchSize, mu: 0, seed: 1 };
}

/** `count` random 28×28×1 images with pixels in [0, 1] (float32 rounding may reach 1) and random labels 0..9. */
export function syntheticDigits(count: number, seed: number): LabeledData {
  const rng = Rng.fromSeed(seed);
  const features = new Float32Array(count * 784);
  for (let i = 0; i < features.length; i++) features[i] = rng.float();
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) labels[i] = rng.int(10);
  return { features, labels, sampleShape: [28, 28, 1], numClasses: 10, count };
}

function slice(data: LabeledData, count: number): LabeledData {
  const d = data.features.length / data.count;
  return { ...data, features: data.features.subarray(0, count * d), labels: data.labels.subarray(0, count), count };
}
