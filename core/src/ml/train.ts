import * as tf from '@tensorflow/tfjs';
import { BadInputError, ParameterError, UnsupportedError, throwIfAborted } from '../util/errors.js';
import { batchPacing } from './batchPacing.js';
import type { Model } from './models.js';
import { fastPathSlower, fastPathUnsupported, trainFast } from './fast/trainFast.js';
import { softmaxCrossEntropy } from './models/loss.js';
import { shuffledIndices } from './shuffle.js';
import type { OptimizerSpec, TrainSpec } from '../spec/ml.js';
import type { BatchProgress, EvalResult, LabeledData, TrainResult } from './types.js';

export { shuffledIndices } from './shuffle.js';

/** Options of {@link trainLocal}. */
export interface TrainOptions {
  /** The round's global parameters; required when `spec.mu` > 0 (FedProx). */
  readonly globalParams?: Float32Array;
  /** Called every `progressEvery` batches and at the end of each epoch. */
  readonly onProgress?: (p: BatchProgress) => void;
  /** Batches between progress reports (default: about 20 per epoch). Each report reads the loss back from the backend. */
  readonly progressEvery?: number;
  readonly signal?: AbortSignal;
  /**
   * Which implementation trains: 'fast' (Canopy's own compiled step, see fast/trainer.ts),
   * 'tfjs' (the tfjs layers on the current backend), or 'auto' (default): the fast path
   * whenever tfjs runs on wasm or cpu and the fast path covers the model and optimiser, tfjs
   * otherwise (Adam, GPU and native backends). The CANOPY_TRAIN_ENGINE environment variable
   * ('fast', 'tfjs') overrides 'auto', so that whole runs can be compared.
   */
  readonly engine?: TrainEngine;
  /** Threads that split each batch on the fast path (default 1); tfjs ignores it. */
  readonly threads?: number;
}

/** A training implementation preference, see {@link TrainOptions.engine}. */
export type TrainEngine = 'auto' | 'fast' | 'tfjs';

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** Samples per forward pass (default 256); affects speed and memory only. */
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
}

/**
 * Trains `model` in place on `data`: `spec.epochs` passes of minibatch SGD (optionally with
 * momentum) or Adam, shuffled per epoch by a stream derived from `spec.seed` and the epoch.
 * With `spec.mu` > 0 the FedProx proximal gradient mu·(w − w_global) is added to every step.
 * Optimiser state starts fresh on every call. Deterministic: the same model parameters, data
 * and spec give bit-identical parameters on the same backend.
 */
export async function trainLocal(model: Model, data: LabeledData, spec: TrainSpec, opts: TrainOptions = {}): Promise<TrainResult> {
  checkData(model, data);
  const started = performance.now();
  if (data.count === 0) return { samples: 0, loss: Number.NaN, accuracy: 0, samplesPerSec: 0, wallSeconds: 0, engine: 'tfjs' };
  const choice = chooseEngine(model, spec, opts.engine);
  if (choice.engine === 'fast') return { ...(await trainFast(model, data, spec, opts)), engine: 'fast' };
  const mu = spec.mu ?? 0;
  const vars = model.trainable;
  const global = mu > 0 ? globalTensors(model, opts.globalParams) : undefined;
  const optimizer = createOptimizer(spec.optimizer);
  const pacing = batchPacing(data.count, spec.batchSize, opts);
  const batches = pacing.batches;
  let epochLoss = Number.NaN;
  let epochAccuracy = 0;
  try {
    for (let epoch = 0; epoch < spec.epochs; epoch++) {
      const order = shuffledIndices(data.count, spec.seed, epoch);
      // Sums stay on the backend: reading a value back every batch would stall a GPU backend.
      let lossSum: tf.Scalar = tf.scalar(0);
      let correctSum: tf.Scalar = tf.scalar(0, 'int32');
      try {
        for (let b = 0; b < batches; b++) {
          pacing.checkAborted();
          const { x, y, n } = makeBatch(data, order, b * spec.batchSize, spec.batchSize);
          const [nextLoss, nextCorrect] = tf.tidy((): tf.Tensor[] => {
            let correct: tf.Scalar | undefined;
            const { value, grads } = tf.variableGrads(() => {
              const r = softmaxCrossEntropy(model.logits(x, true), y);
              correct = r.correct;
              return r.loss;
            }, vars as tf.Variable[]);
            if (global !== undefined) {
              vars.forEach((v, i) => {
                grads[v.name] = tf.add(grads[v.name]!, tf.mul(tf.sub(v, global[i]!), mu));
              });
            }
            optimizer.applyGradients(grads);
            const sums = [tf.add(lossSum, tf.mul(value, n)), tf.add(correctSum, correct!)];
            correct!.dispose();
            return sums;
          });
          x.dispose();
          y.dispose();
          lossSum.dispose();
          correctSum.dispose();
          lossSum = nextLoss as tf.Scalar;
          correctSum = nextCorrect as tf.Scalar;
          const seen = Math.min((b + 1) * spec.batchSize, data.count);
          if (opts.onProgress !== undefined && pacing.reports(b)) {
            const loss = (await lossSum.data())[0]! / seen;
            opts.onProgress({ epoch, epochs: spec.epochs, batch: b + 1, batches, loss });
          }
          await pacing.breathe();
        }
        epochLoss = (await lossSum.data())[0]! / data.count;
        epochAccuracy = (await correctSum.data())[0]! / data.count;
      } finally {
        lossSum.dispose();
        correctSum.dispose();
      }
    }
  } finally {
    optimizer.dispose();
    if (global !== undefined) tf.dispose(global);
  }
  const wallSeconds = (performance.now() - started) / 1000;
  const samples = data.count * spec.epochs;
  return { samples, loss: epochLoss, accuracy: epochAccuracy, samplesPerSec: samples / wallSeconds, wallSeconds, engine: 'tfjs' };
}

/** Which engine trainLocal uses for `model` and `spec` under `pref`, and why not the fast one. */
export function chooseEngine(model: Model, spec: TrainSpec, pref: TrainEngine = 'auto'): { engine: 'fast' | 'tfjs'; reason?: string } {
  const env = typeof process !== 'undefined' ? process.env?.CANOPY_TRAIN_ENGINE : undefined;
  const wanted = pref !== 'auto' ? pref : env === 'fast' || env === 'tfjs' ? env : 'auto';
  if (wanted === 'tfjs') return { engine: 'tfjs', reason: 'tfjs was asked for' };
  if (model.spec.kind === 'keras') {
    if (wanted === 'fast') throw new UnsupportedError('the fast training path cannot train this: a keras topology trains on tfjs');
    return { engine: 'tfjs', reason: 'a keras topology trains on tfjs' };
  }
  const backend = tf.getBackend();
  if (wanted === 'auto' && backend !== 'wasm' && backend !== 'cpu') return { engine: 'tfjs', reason: `tfjs backend '${backend}' is native or a GPU` };
  const reason = fastPathUnsupported(model.architecture, spec, model.spec.numClasses);
  if (reason !== undefined && wanted === 'fast') throw new UnsupportedError(`the fast training path cannot train this: ${reason}`);
  if (reason !== undefined) return { engine: 'tfjs', reason };
  const slower = wanted === 'auto' ? fastPathSlower(model.architecture) : undefined;
  return slower === undefined ? { engine: 'fast' } : { engine: 'tfjs', reason: slower };
}

/** Mean cross-entropy loss and accuracy of `model` on `data`. */
export async function evaluate(model: Model, data: LabeledData, opts: EvaluateOptions = {}): Promise<EvalResult> {
  checkData(model, data);
  if (data.count === 0) return { loss: Number.NaN, accuracy: 0, samples: 0 };
  const batchSize = opts.batchSize ?? 256;
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < data.count; start += batchSize) {
    throwIfAborted(opts.signal, 'evaluation');
    const { x, y, n } = makeBatch(data, undefined, start, batchSize);
    const [loss, right] = tf.tidy(() => {
      const r = softmaxCrossEntropy(model.logits(x), y);
      return [r.loss, r.correct];
    });
    x.dispose();
    y.dispose();
    lossSum += (await loss.data())[0]! * n;
    correct += (await right.data())[0]!;
    loss.dispose();
    right.dispose();
  }
  return { loss: lossSum / data.count, accuracy: correct / data.count, samples: data.count };
}

/** A tfjs optimiser for a spec; it is the caller's to dispose. */
function createOptimizer(spec: OptimizerSpec): tf.Optimizer {
  switch (spec.kind) {
    case 'sgd':
      return spec.momentum > 0 ? tf.train.momentum(spec.lr, spec.momentum) : tf.train.sgd(spec.lr);
    case 'adam':
      return tf.train.adam(spec.lr, spec.beta1, spec.beta2, spec.epsilon);
  }
}

function globalTensors(model: Model, globalParams: Float32Array | undefined): tf.Tensor[] {
  if (globalParams === undefined) {
    throw new ParameterError('FedProx (mu > 0) needs the round\'s global parameters: pass opts.globalParams to trainLocal');
  }
  if (globalParams.length !== model.size) {
    throw new ParameterError(`global parameters have ${globalParams.length} values but model '${model.spec.kind}' needs ${model.size}`);
  }
  // Only the trained variables get a proximal term; their global values are picked out of the full vector.
  const trained = new Set(model.trainable);
  const out: tf.Tensor[] = [];
  let offset = 0;
  for (const v of model.variables) {
    if (trained.has(v)) out.push(tf.tensor(globalParams.slice(offset, offset + v.size), v.shape));
    offset += v.size;
  }
  return out;
}


/** Samples order[start .. start+size) (or start.. in storage order) as an input tensor and one-hot labels. */
function makeBatch(
  data: LabeledData,
  order: Int32Array | undefined,
  start: number,
  size: number,
): { x: tf.Tensor2D; y: tf.Tensor2D; n: number } {
  const n = Math.min(size, data.count - start);
  const d = data.features.length / data.count;
  const k = data.numClasses;
  // Fresh arrays per batch: the cpu backend keeps the array a tensor is made from.
  const xs = new Float32Array(n * d);
  const ys = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    const s = order === undefined ? start + i : order[start + i]!;
    xs.set(data.features.subarray(s * d, (s + 1) * d), i * d);
    ys[i * k + data.labels[s]!] = 1;
  }
  return { x: tf.tensor2d(xs, [n, d]), y: tf.tensor2d(ys, [n, k]), n };
}

function checkData(model: Model, data: LabeledData): void {
  const d = model.architecture.inputSize;
  const sampleSize = data.sampleShape.reduce((a, b) => a * b, 1);
  if (sampleSize !== d || data.features.length !== data.count * d) {
    throw new BadInputError(
      `data samples have shape [${data.sampleShape.join(', ')}] (${data.features.length} values for ${data.count} samples) ` +
        `but model '${model.spec.kind}' takes [${model.spec.inputShape.join(', ')}]`,
    );
  }
  if (data.labels.length !== data.count) throw new BadInputError(`data has ${data.count} samples but ${data.labels.length} labels`);
  const k = model.spec.numClasses;
  for (let i = 0; i < data.count; i++) {
    const l = data.labels[i]!;
    if (!(l >= 0 && l < k)) throw new BadInputError(`label ${l} of sample ${i} is outside the model's ${k} classes`);
  }
}
