import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { loadMnist } from '../data/loadMnist.js';
import { createModel, getParams } from '../models.js';
import { trainLocal } from '../train.js';
import { exportLayersModel } from './export.js';
import type { ModelSpec } from '../../spec/ml.js';
import type { DataSplit } from '../types.js';

const topology = (file: string): Record<string, unknown> =>
  (JSON.parse(readFileSync(new URL(`../../../../examples/models/${file}`, import.meta.url), 'utf8')) as { modelTopology: Record<string, unknown> }).modelTopology;

const specs: [string, ModelSpec][] = [
  ['logreg [784]', { kind: 'logreg', inputShape: [784], numClasses: 10 }],
  ['mlp [28,28,1]', { kind: 'mlp', inputShape: [28, 28, 1], numClasses: 10 }],
  ['2nn [28,28,1]', { kind: '2nn', inputShape: [28, 28, 1], numClasses: 10 }],
  ['cnn [784]', { kind: 'cnn', inputShape: [784], numClasses: 10 }],
  ['mcmahan-cnn [28,28,1]', { kind: 'mcmahan-cnn', inputShape: [28, 28, 1], numClasses: 10 }],
  ['keras lenet5', { kind: 'keras', inputShape: [28, 28, 1], numClasses: 10, topology: topology('lenet5.json') }],
  ['keras resnet-small', { kind: 'keras', inputShape: [28, 28, 1], numClasses: 10, topology: topology('resnet-small.json') }],
];

let mnist: DataSplit;
beforeAll(async () => {
  await initBackend('wasm');
  mnist = await loadMnist({ seed: 1 });
});

describe('exportLayersModel', () => {
  it.each(specs)('%s: tfjs loads the export and predicts the classes Canopy ranks first', async (_, spec) => {
    const model = createModel(spec, 4);
    const n = 300;
    const train = { ...mnist.train, count: n, features: mnist.train.features.subarray(0, n * 784), labels: mnist.train.labels.subarray(0, n) };
    await trainLocal(model, train, { optimizer: { kind: 'sgd', lr: 0.05, momentum: 0 }, epochs: 1, batchSize: 32, mu: 0, seed: 1 });
    const files = exportLayersModel(spec, getParams(model));
    const loaded = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: files.modelJson.modelTopology,
        weightSpecs: files.modelJson.weightsManifest.flatMap((g) => g.weights),
        weightData: files.weights.slice().buffer,
      }),
    );
    const x = tf.tensor(mnist.test.features.subarray(0, 500 * 784), [500, ...spec.inputShape]);
    const ours = tf.tidy(() => model.logits(x).argMax(1).dataSync());
    const probs = loaded.predict(x) as tf.Tensor;
    const theirs = tf.tidy(() => probs.argMax(1).dataSync());
    const sums = tf.tidy(() => probs.sum(1).dataSync());
    expect(Array.from(theirs)).toEqual(Array.from(ours));
    // The export ends in softmax: one probability per class.
    expect(Math.max(...Array.from(sums, (s) => Math.abs(s - 1)))).toBeLessThan(1e-4);
    expect(files.weights.length).toBe(4 * getParams(model).length);
    tf.dispose([x, probs]);
    loaded.dispose();
    model.dispose();
  }, 60_000);
});
