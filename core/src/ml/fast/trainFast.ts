import { ParameterError } from '../../util/errors.js';
import { batchPacing } from '../batchPacing.js';
import type { Architecture } from '../layout.js';
import type { Model } from '../models.js';
import { getParams, setParams } from '../models.js';
import type { TrainSpec } from '../../spec/ml.js';
import type { BatchProgress, LabeledData, TrainResult } from '../types.js';
import { shuffledIndices } from '../shuffle.js';
import { fastKernelsAvailable } from './kernels.js';
import { makePlan, unsupportedReason } from './plan.js';
import { closeTrainer, createThreadedTrainer } from './threads.js';
import type { FastTrainer } from './trainer.js';
import { MAX_THREADS } from './plan.js';

/** What the fast path needs from trainLocal's options. */
export interface FastTrainOptions {
  readonly globalParams?: Float32Array;
  readonly onProgress?: (p: BatchProgress) => void;
  readonly progressEvery?: number;
  readonly signal?: AbortSignal;
  /** Threads that split each batch (default 1). Equal seeds give equal bits for a given count. */
  readonly threads?: number;
}

// A training step's buffers beyond this stay with tfjs, which streams them through smaller
// kernels (a huge batch size on a conv model, say).
const MAX_BYTES = 1 << 30;

/**
 * Why the fast path cannot train `arch` with `spec` here, or undefined when it can. It covers
 * dense, conv + 2×2 max-pool, ReLU/linear and softmax cross-entropy models with SGD (with or
 * without momentum) and FedProx; Adam and anything else stays with tfjs.
 */
export function fastPathUnsupported(arch: Architecture, spec: TrainSpec, numClasses: number): string | undefined {
  if (!fastKernelsAvailable()) return 'WebAssembly SIMD or SharedArrayBuffer is unavailable';
  if (spec.optimizer.kind !== 'sgd') return `optimizer '${spec.optimizer.kind}'`;
  const layers = unsupportedReason(arch);
  if (layers !== undefined) return layers;
  const bytes = makePlan(arch, spec.batchSize, numClasses).bytes;
  if (bytes > MAX_BYTES) return `batch size ${spec.batchSize} needs ${Math.ceil(bytes / 2 ** 20)} MiB of buffers`;
  return undefined;
}

// Receptive fields longer than this (McMahan's second conv: 5×5×32 = 800) make the fast path's
// im2col buffers outgrow the L2 cache, and tfjs's XNNPACK convolution, which reads the image in
// place, is faster there; measured in docs/TRAINING.md.
const MAX_FIELD = 64;

/** Why 'auto' should leave `arch` to tfjs although the fast path could train it, or undefined. */
export function fastPathSlower(arch: Architecture): string | undefined {
  for (const l of arch.layers) {
    if (l.kind === 'conv' && l.size * l.size * l.inChannels > MAX_FIELD) {
      return `conv layer '${l.name}' reads ${l.size}×${l.size}×${l.inChannels} values per output, where tfjs's convolution is faster`;
    }
  }
  return undefined;
}

// Trainers are kept per (architecture, batch size, classes): compiling a plan and zeroing its
// memory is paid once per model shape, not once per round. A trainer in use is taken out, so
// concurrent trainings in one thread never share buffers.
const idle = new Map<string, FastTrainer[]>();
const KEEP_PER_SHAPE = 2;
const KEEP_SHAPES = 4;

async function acquire(arch: Architecture, batch: number, numClasses: number, threads: number): Promise<{ key: string; trainer: FastTrainer }> {
  const key = `${batch}|${numClasses}|${threads}|${JSON.stringify(arch)}`;
  const trainer = idle.get(key)?.pop() ?? (await createThreadedTrainer(arch, batch, numClasses, threads));
  return { key, trainer };
}

function release(key: string, trainer: FastTrainer): void {
  let list = idle.get(key);
  if (list === undefined) {
    if (idle.size >= KEEP_SHAPES) {
      const [oldest, dropped] = idle.entries().next().value!;
      idle.delete(oldest);
      dropped.forEach(closeTrainer);
    }
    list = [];
    idle.set(key, list);
  }
  if (list.length < KEEP_PER_SHAPE) list.push(trainer);
  else closeTrainer(trainer);
}

/**
 * trainLocal's contract on the fast path: `spec.epochs` passes of minibatch SGD in the order
 * of shuffledIndices(count, seed, epoch), the model updated in place (also when aborted, as
 * far as it got). Call only when {@link fastPathUnsupported} returned undefined; data is
 * already checked by the caller.
 */
export async function trainFast(model: Model, data: LabeledData, spec: TrainSpec, opts: FastTrainOptions = {}): Promise<TrainResult> {
  const started = performance.now();
  if (spec.optimizer.kind !== 'sgd') throw new ParameterError(`the fast path trains with SGD, not '${spec.optimizer.kind}'`);
  const { lr, momentum } = spec.optimizer;
  const mu = spec.mu ?? 0;
  const global = mu > 0 ? checkedGlobal(model, opts.globalParams) : undefined;
  const threads = opts.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) throw new ParameterError(`threads must be a whole number from 1 to ${MAX_THREADS}, not ${threads}`);
  const { key, trainer } = await acquire(model.architecture, spec.batchSize, model.spec.numClasses, threads);
  const params = trainer.params;
  const grads = trainer.grads;
  params.set(getParams(model));
  const accumulation = momentum > 0 ? new Float32Array(params.length) : undefined;
  const d = model.architecture.inputSize;
  const input = trainer.input;
  const features = data.features;
  const labels = new Int32Array(spec.batchSize);
  const pacing = batchPacing(data.count, spec.batchSize, opts);
  const batches = pacing.batches;
  const negLr = Math.fround(-lr);
  const m = Math.fround(momentum);
  const muF = Math.fround(mu);
  let epochLoss = Number.NaN;
  let epochAccuracy = 0;
  try {
    for (let epoch = 0; epoch < spec.epochs; epoch++) {
      const order = shuffledIndices(data.count, spec.seed, epoch);
      let lossSum = 0;
      let correct = 0;
      for (let b = 0; b < batches; b++) {
        pacing.checkAborted();
        const start = b * spec.batchSize;
        const n = Math.min(spec.batchSize, data.count - start);
        for (let i = 0; i < n; i++) {
          const s = order[start + i]!;
          // a plain loop: subarray() would allocate a view per sample
          for (let j = 0, from = s * d, to = i * d; j < d; j++) input[to + j] = features[from + j]!;
          labels[i] = data.labels[s]!;
        }
        const stats = trainer.gradients(labels, n);
        lossSum += stats.lossSum;
        correct += stats.correct;
        if (global !== undefined) {
          // FedProx: g + (w − w_global)·mu, each op rounded to float32 as tfjs does
          for (let i = 0; i < grads.length; i++) grads[i] = grads[i]! + Math.fround(Math.fround(params[i]! - global[i]!) * muF);
        }
        if (accumulation !== undefined) {
          // tfjs's momentum: a ← a·m + g; w ← a·(−lr) + w
          for (let i = 0; i < params.length; i++) {
            const a = Math.fround(Math.fround(accumulation[i]! * m) + grads[i]!);
            accumulation[i] = a;
            params[i] = Math.fround(a * negLr) + params[i]!;
          }
        } else {
          trainer.applySgd(lr);
        }
        if (opts.onProgress !== undefined && pacing.reports(b)) {
          opts.onProgress({ epoch, epochs: spec.epochs, batch: b + 1, batches, loss: lossSum / (start + n) });
        }
        await pacing.breathe();
      }
      epochLoss = lossSum / data.count;
      epochAccuracy = correct / data.count;
    }
  } finally {
    setParams(model, params);
    release(key, trainer);
  }
  const wallSeconds = (performance.now() - started) / 1000;
  const samples = data.count * spec.epochs;
  return { samples, loss: epochLoss, accuracy: epochAccuracy, samplesPerSec: samples / wallSeconds, wallSeconds };
}

function checkedGlobal(model: Model, globalParams: Float32Array | undefined): Float32Array {
  if (globalParams === undefined) {
    throw new ParameterError('FedProx (mu > 0) needs the round\'s global parameters: pass opts.globalParams to trainLocal');
  }
  if (globalParams.length !== model.size) {
    throw new ParameterError(`global parameters have ${globalParams.length} values but model '${model.spec.kind}' needs ${model.size}`);
  }
  return globalParams;
}
