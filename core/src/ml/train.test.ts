import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { AbortedError, BadInputError, ParameterError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { initBackend } from './backend.js';
import { createModel, getParams, setParams } from './models.js';
import { paramsHash } from './params.js';
import type { ModelSpec, TrainSpec } from '../spec/ml.js';
import { evaluate, shuffledIndices, trainLocal } from './train.js';
import type { BatchProgress, LabeledData } from './types.js';

/** A learnable task: class = which of 4 quadrants of a 8x8 image is brightest, plus noise. */
function quadrants(count: number, seed: number): LabeledData {
  const rng = Rng.fromSeed(seed);
  const features = new Float32Array(count * 64);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = rng.int(4);
    labels[i] = label;
    for (let p = 0; p < 64; p++) {
      const quadrant = (Math.floor(p / 8) >= 4 ? 2 : 0) + (p % 8 >= 4 ? 1 : 0);
      features[i * 64 + p] = 0.5 * rng.float() + (quadrant === label ? 0.5 : 0);
    }
  }
  return { features, labels, sampleShape: [8, 8, 1], numClasses: 4, count };
}

const data = quadrants(256, 1);
const test = quadrants(128, 2);
const mlp: ModelSpec = { kind: 'mlp', inputShape: [8, 8, 1], numClasses: 4, hidden: [16] };
const cnn: ModelSpec = { kind: 'cnn', inputShape: [8, 8, 1], numClasses: 4 };
const sgd = (extra: Partial<TrainSpec> = {}): TrainSpec => ({ optimizer: { kind: 'sgd', lr: 0.1, momentum: 0 }, epochs: 2, batchSize: 16, mu: 0, seed: 3, ...extra });

afterAll(async () => {
  await initBackend('wasm');
});

// The tfjs layers on both backends, and the fast path (which trainLocal picks for SGD on wasm).
const engines = [
  ['wasm', 'tfjs'],
  ['cpu', 'tfjs'],
  ['wasm', 'fast'],
] as const;

describe.each(engines)('trainLocal on %s with engine %s', (backend, engine) => {
  const optimizers: [string, TrainSpec][] = [
    ['sgd', sgd()],
    ['sgd + momentum', sgd({ optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9 } })],
    ['adam', sgd({ optimizer: { kind: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } })],
    ['fedprox', sgd({ mu: 0.1 })],
  ];

  it.each(optimizers)('%s learns and is bit-for-bit deterministic', async (_, spec) => {
    await initBackend(backend);
    for (const modelSpec of [mlp, cnn]) {
      const runs = [];
      for (let run = 0; run < 2; run++) {
        const model = createModel(modelSpec, 7);
        const globalParams = getParams(model);
        const before = await evaluate(model, test);
        const result = await trainLocal(model, data, spec, { globalParams, engine: spec.optimizer.kind === 'adam' ? 'auto' : engine });
        const after = await evaluate(model, test);
        runs.push(paramsHash(getParams(model)));
        expect(after.loss, `${modelSpec.kind}: test loss falls`).toBeLessThan(before.loss);
        expect(result.samples).toBe(data.count * spec.epochs);
        expect(result.engine, 'Adam always trains on tfjs').toBe(spec.optimizer.kind === 'adam' ? 'tfjs' : engine);
        expect(Number.isFinite(result.loss) && result.accuracy >= 0 && result.accuracy <= 1).toBe(true);
        model.dispose();
      }
      expect(runs[1], `${modelSpec.kind}: same seed, same data ⇒ same parameters`).toBe(runs[0]);
    }
  });

  it('another shuffling seed gives other parameters', async () => {
    await initBackend(backend);
    const hashes = [];
    for (const seed of [1, 2]) {
      const model = createModel(mlp, 7);
      await trainLocal(model, data, sgd({ seed }), { engine });
      hashes.push(paramsHash(getParams(model)));
      model.dispose();
    }
    expect(hashes[0]).not.toBe(hashes[1]);
  });

  it('keeps tfjs memory stable over 5 train + evaluate rounds', async () => {
    await initBackend(backend);
    const model = createModel(cnn, 1);
    const counts = [];
    for (let round = 0; round < 5; round++) {
      await trainLocal(model, data, sgd({ optimizer: { kind: 'adam', lr: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }, mu: 0.01, epochs: 1 }), {
        globalParams: getParams(model),
        onProgress: () => {},
      });
      await evaluate(model, test);
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts).size, `tensor counts ${counts.join(',')}`).toBe(1);
    model.dispose();
  });
});

describe('trainLocal', () => {
  it('pulls parameters towards the global ones as mu grows (FedProx)', async () => {
    await initBackend('wasm');
    const distance = async (mu: number) => {
      const model = createModel(mlp, 4);
      const global = getParams(model);
      await trainLocal(model, data, sgd({ mu, epochs: 3 }), { globalParams: global });
      const p = getParams(model);
      model.dispose();
      return Math.hypot(...p.map((v, i) => v - global[i]!));
    };
    const [free, prox] = [await distance(0), await distance(5)];
    expect(prox).toBeLessThan(free * 0.8);
  });

  it('reports progress with the running loss, ending each epoch', async () => {
    await initBackend('wasm');
    const model = createModel(mlp, 1);
    const seen: BatchProgress[] = [];
    await trainLocal(model, data, sgd({ epochs: 2 }), { onProgress: (p) => seen.push(p), progressEvery: 5 });
    // 16 batches per epoch: reports after batches 5, 10, 15 and 16.
    expect(seen.map((p) => `${p.epoch}:${p.batch}/${p.batches}`)).toEqual(['0:5/16', '0:10/16', '0:15/16', '0:16/16', '1:5/16', '1:10/16', '1:15/16', '1:16/16']);
    expect(seen.every((p) => p.epochs === 2 && Number.isFinite(p.loss) && p.loss > 0)).toBe(true);
    model.dispose();
  });

  it('stops with AbortedError when its signal fires, leaking nothing', async () => {
    await initBackend('wasm');
    const model = createModel(mlp, 1);
    const before = tf.memory().numTensors;
    const ctl = new AbortController();
    const run = trainLocal(model, data, sgd({ epochs: 50 }), { signal: ctl.signal, onProgress: (p) => p.batch >= 3 && ctl.abort() });
    await expect(run).rejects.toThrow(AbortedError);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  const bad: [string, () => Promise<unknown>, typeof BadInputError | typeof ParameterError, RegExp][] = [
    ['FedProx without global parameters', () => trainLocal(createModel(mlp, 1), data, sgd({ mu: 0.1 })), ParameterError, /globalParams/],
    ['global parameters of another size', () => trainLocal(createModel(mlp, 1), data, sgd({ mu: 0.1 }), { globalParams: new Float32Array(3) }), ParameterError, /needs/],
    ['samples of the wrong shape', () => trainLocal(createModel({ ...mlp, inputShape: [10] }, 1), data, sgd()), BadInputError, /takes \[10\]/],
    ['a label outside the classes', () => trainLocal(createModel(mlp, 1), { ...data, labels: data.labels.map((l, i) => (i === 9 ? 4 : l)) }, sgd()), BadInputError, /label 4 of sample 9/],
  ];
  it.each(bad)('rejects %s', async (_, run, errorClass, message) => {
    await initBackend('wasm');
    await expect(run()).rejects.toThrow(errorClass);
    await expect(run()).rejects.toThrow(message);
  });
});

describe('evaluate', () => {
  it('gives ln(k) loss and first-class accuracy for a model with zero parameters', async () => {
    await initBackend('wasm');
    const model = createModel(mlp, 1);
    setParams(model, new Float32Array(model.size));
    const r = await evaluate(model, test, { batchSize: 50 });
    // All logits equal: loss ln 4; argmax picks class 0, so accuracy is class 0's share.
    const share = test.labels.filter((l) => l === 0).length / test.count;
    expect(r.loss).toBeCloseTo(Math.log(4), 5);
    expect(r.accuracy).toBeCloseTo(share, 10);
    expect(r.samples).toBe(test.count);
    model.dispose();
  });

  it('does not depend on the evaluation batch size', async () => {
    await initBackend('wasm');
    const model = createModel(cnn, 2);
    const [a, b] = [await evaluate(model, test, { batchSize: 7 }), await evaluate(model, test, { batchSize: 128 })];
    expect(a.accuracy).toBe(b.accuracy);
    expect(a.loss).toBeCloseTo(b.loss, 5);
    model.dispose();
  });
});

describe('shuffledIndices', () => {
  it('is a permutation that depends on seed and epoch only', () => {
    const a = shuffledIndices(100, 1, 0);
    expect([...a].sort((x, y) => x - y)).toEqual([...Array(100).keys()]);
    expect(shuffledIndices(100, 1, 0)).toEqual(a);
    expect(shuffledIndices(100, 1, 1)).not.toEqual(a);
    expect(shuffledIndices(100, 2, 0)).not.toEqual(a);
  });
});
