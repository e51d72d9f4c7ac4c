import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { UnsupportedError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { initBackend } from './backend.js';
import { createModel, getParams, setParams } from './models.js';
import { softmaxCrossEntropy } from './models/loss.js';
import { nativeWasmConv2DBackpropInput } from './wasmConvGrad.js';

// float32 sums of up to a few thousand products, in different orders on the two backends.
const RTOL = 2e-5;

function randomArray(n: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** max |a − b| / max |b|: the error relative to the gradient's scale. */
function relError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

interface ConvCase {
  readonly batch: number;
  readonly size: [number, number];
  readonly inCh: number;
  readonly outCh: number;
  readonly kernel: number;
  readonly stride: 1 | 2;
  readonly pad: 'same' | 'valid';
}

const cases: ConvCase[] = [
  { batch: 2, size: [28, 28], inCh: 1, outCh: 32, kernel: 5, stride: 1, pad: 'same' },
  { batch: 2, size: [14, 14], inCh: 32, outCh: 64, kernel: 5, stride: 1, pad: 'same' },
  { batch: 3, size: [28, 28], inCh: 1, outCh: 32, kernel: 3, stride: 1, pad: 'valid' },
  { batch: 2, size: [9, 7], inCh: 3, outCh: 4, kernel: 3, stride: 1, pad: 'valid' },
  { batch: 2, size: [8, 8], inCh: 3, outCh: 5, kernel: 3, stride: 2, pad: 'same' },
  { batch: 2, size: [9, 9], inCh: 32, outCh: 8, kernel: 3, stride: 2, pad: 'valid' },
  { batch: 1, size: [10, 11], inCh: 3, outCh: 2, kernel: 4, stride: 2, pad: 'same' },
  { batch: 2, size: [6, 6], inCh: 1, outCh: 3, kernel: 2, stride: 1, pad: 'same' },
];

/** Gradients of Σ conv(x, W)·R w.r.t. x and W on the current backend (dy = R). */
function convGrads(c: ConvCase, seed: number): { dx: Float32Array; dw: Float32Array } {
  const rng = Rng.fromSeed(seed);
  const [h, w] = c.size;
  const x = tf.tensor4d(randomArray(c.batch * h * w * c.inCh, rng), [c.batch, h, w, c.inCh]);
  const filter = tf.tensor4d(randomArray(c.kernel * c.kernel * c.inCh * c.outCh, rng), [c.kernel, c.kernel, c.inCh, c.outCh]);
  const outShape = tf.conv2d(x, filter, c.stride, c.pad).shape;
  const r = tf.tensor(randomArray(outShape.reduce((a, b) => a * b, 1), rng), outShape);
  const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), r)))([x, filter]);
  const out = { dx: dx!.dataSync() as Float32Array, dw: dw!.dataSync() as Float32Array };
  tf.dispose([x, filter, r, dx!, dw!]);
  return out;
}

const label = (c: ConvCase) => `${c.batch}x${c.size.join('x')}x${c.inCh} → ${c.outCh}, ${c.kernel}x${c.kernel}/${c.stride} ${c.pad}`;

describe('wasm convolution gradients agree with the cpu backend', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it.each(cases.map((c, i) => [label(c), c, i] as const))('%s', async (_, c, i) => {
    await initBackend('cpu');
    const ref = convGrads(c, i);
    await initBackend('wasm');
    const got = convGrads(c, i);
    expect(relError(got.dw, ref.dw), 'dW').toBeLessThan(RTOL);
    expect(relError(got.dx, ref.dx), 'dx').toBeLessThan(RTOL);
  });

  it('the native wasm Conv2DBackpropInput (kept for strides > 1) is also correct', async () => {
    const native = nativeWasmConv2DBackpropInput();
    expect(native).toBeDefined();
    for (const [i, c] of cases.entries()) {
      const rng = Rng.fromSeed(100 + i);
      const [h, w] = c.size;
      const inputShape: [number, number, number, number] = [c.batch, h, w, c.inCh];
      const filterData = randomArray(c.kernel * c.kernel * c.inCh * c.outCh, rng);
      const filterShape = [c.kernel, c.kernel, c.inCh, c.outCh] as const;
      const attrs = { strides: [c.stride, c.stride], pad: c.pad, dataFormat: 'NHWC', inputShape, dimRoundingMode: undefined };
      const run = (f: (filter: tf.Tensor4D, dy: tf.Tensor4D) => tf.Tensor) => {
        const filter = tf.tensor4d(filterData, [...filterShape]);
        const outShape = tf.conv2d(tf.zeros(inputShape) as tf.Tensor4D, filter, c.stride, c.pad).shape;
        const dy = tf.tensor4d(randomArray(outShape.reduce((a, b) => a * b, 1), Rng.fromSeed(200 + i)), outShape);
        const out = f(filter, dy).dataSync() as Float32Array;
        return out;
      };
      await initBackend('cpu');
      const ref = run((filter, dy) => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, attrs as never) as tf.Tensor);
      await initBackend('wasm');
      const got = run((filter, dy) => {
        const info = native!({ inputs: { dy, filter }, backend: tf.backend(), attrs: attrs as never }) as tf.TensorInfo;
        return tf.engine().makeTensorFromTensorInfo(info);
      });
      expect(relError(got, ref), label(c)).toBeLessThan(RTOL);
    }
  });

  it('refuses NCHW data with an UnsupportedError', async () => {
    await initBackend('wasm');
    const x = tf.zeros([1, 1, 4, 4]);
    const dy = tf.zeros([1, 1, 4, 4]);
    expect(() =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: [1, 1], pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 1, 1] } as never),
    ).toThrow(UnsupportedError);
  });

  it.each(['cnn', 'mcmahan-cnn'] as const)('whole-model gradients of %s agree (loss w.r.t. every variable)', async (kind) => {
    const spec = { kind, inputShape: [28, 28, 1], numClasses: 10 };
    const rng = Rng.fromSeed(7);
    const xs = Float32Array.from({ length: 4 * 784 }, () => rng.float());
    const ys = new Float32Array(4 * 10);
    for (let i = 0; i < 4; i++) ys[i * 10 + rng.int(10)] = 1;
    const grads = async (backend: 'cpu' | 'wasm') => {
      await initBackend(backend);
      const model = createModel(spec, 3);
      // Move the weights off their init so that every ReLU and pool window is exercised.
      setParams(model, getParams(model).map((v, i) => v + 0.01 * Math.sin(i)));
      const x = tf.tensor2d(xs, [4, 784]);
      const y = tf.tensor2d(ys, [4, 10]);
      const { grads: g } = tf.variableGrads(() => {
        const r = softmaxCrossEntropy(model.logits(x), y);
        r.correct.dispose();
        return r.loss;
      }, model.variables as tf.Variable[]);
      const out = model.variables.map((v) => g[v.name]!.dataSync() as Float32Array);
      tf.dispose([x, y, ...Object.values(g)]);
      model.dispose();
      return out;
    };
    const ref = await grads('cpu');
    const got = await grads('wasm');
    got.forEach((g, i) => expect(relError(g, ref[i]!), `variable ${i}`).toBeLessThan(1e-4));
  });
});
