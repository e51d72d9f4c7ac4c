import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { architecture, paramLayout } from '../layout.js';
import { createModel, getParams } from '../models.js';
import { softmaxCrossEntropy } from '../models/loss.js';
import type { ModelSpec } from '../../spec/ml.js';
import { syntheticDigits } from '../trainBench.js';
import { FastTrainer } from './trainer.js';

// The fast path against the tfjs layers it replaces (models.ts on the wasm backend), on the
// four benchmark models and logistic regression. Both sum in float32 but in different orders,
// so they agree to rounding: every gradient tensor within 1e-4 of its largest magnitude.
const TOLERANCE = 1e-4;

const models: ModelSpec[] = [
  { kind: 'logreg', inputShape: [28, 28, 1], numClasses: 10 },
  { kind: 'mlp', inputShape: [28, 28, 1], numClasses: 10 },
  { kind: '2nn', inputShape: [28, 28, 1], numClasses: 10 },
  { kind: 'cnn', inputShape: [28, 28, 1], numClasses: 10 },
  { kind: 'mcmahan-cnn', inputShape: [28, 28, 1], numClasses: 10 },
  // odd conv output (7×7 → pooled 3×3 drops a row and a column), 'same' and 'valid', 3 classes
  { kind: 'mcmahan-cnn', inputShape: [15, 15, 1], numClasses: 3 },
];

/** tfjs's gradients of the mean loss, flat in paramLayout order, with the batch's loss and correct count. */
function tfjsGradients(spec: ModelSpec, seed: number, x: Float32Array, labels: Int32Array, n: number): { grads: Float32Array; loss: number; correct: number } {
  const model = createModel(spec, seed);
  try {
    const d = x.length / n;
    const k = spec.numClasses;
    const onehot = new Float32Array(n * k);
    for (let i = 0; i < n; i++) onehot[i * k + labels[i]!] = 1;
    const xs = tf.tensor2d(x, [n, d]);
    const ys = tf.tensor2d(onehot, [n, k]);
    let correct = 0;
    const { value, grads } = tf.variableGrads(() => {
      const r = softmaxCrossEntropy(model.logits(xs), ys);
      correct = r.correct.dataSync()[0]!;
      r.correct.dispose();
      return r.loss;
    }, model.variables as tf.Variable[]);
    const flat = new Float32Array(model.size);
    let at = 0;
    for (const v of model.variables) {
      const g = grads[v.name]!.dataSync() as Float32Array;
      flat.set(g, at);
      at += g.length;
    }
    const loss = value.dataSync()[0]!;
    tf.dispose([xs, ys, value, ...Object.values(grads)]);
    return { grads: flat, loss, correct };
  } finally {
    model.dispose();
  }
}

function maxAbs(v: Float32Array, from: number, to: number): number {
  let m = 0;
  for (let i = from; i < to; i++) m = Math.max(m, Math.abs(v[i]!));
  return m;
}

describe('FastTrainer gradients equal the tfjs layers', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it.each(models.map((m) => [`${m.kind} ${m.inputShape.join('x')}`, m] as const))('%s', (_, spec) => {
    const arch = architecture(spec);
    const n = 5;
    const data = syntheticDigits(n, 3);
    // syntheticDigits is 28×28; other shapes take a prefix of its pixels
    const x = data.features.subarray(0, n * arch.inputSize);
    const labels = data.labels.map((l) => l % spec.numClasses);
    const expected = tfjsGradients(spec, 11, x, labels, n);
    const trainer = new FastTrainer(arch, 8, spec.numClasses);
    const model = createModel(spec, 11);
    trainer.params.set(getParams(model));
    model.dispose();
    trainer.input.set(x);
    const stats = trainer.gradients(labels, n);
    expect(stats.correct).toBe(expected.correct);
    expect(stats.lossSum / n).toBeCloseTo(expected.loss, 5);
    let at = 0;
    for (const p of paramLayout(spec)) {
      const size = p.shape.reduce((a, b) => a * b, 1);
      const scale = maxAbs(expected.grads, at, at + size);
      expect(scale, `${p.name}: tfjs gradient is not all zero`).toBeGreaterThan(0);
      let worst = 0;
      for (let i = at; i < at + size; i++) worst = Math.max(worst, Math.abs(trainer.grads[i]! - expected.grads[i]!));
      expect(worst / scale, `${p.name}: largest difference relative to the largest gradient`).toBeLessThan(TOLERANCE);
      at += size;
    }
  });
});
