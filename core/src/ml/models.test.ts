import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ParameterError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { initBackend } from './backend.js';
import { paramCount, paramLayout } from './layout.js';
import { createModel, getParams, initialParams, setParams } from './models.js';
import { convPool } from './models/convPool.js';
import { dense, maxPool2x2 } from './models/layers.js';
import { paramsHash } from './params.js';
import { BuiltinModelKind as ModelKind, type ModelSpec } from '../spec/ml.js';

const kinds = ModelKind.options;
const specs: ModelSpec[] = kinds.flatMap((kind) => [
  { kind, inputShape: [28, 28, 1], numClasses: 10 },
  { kind, inputShape: [784], numClasses: 10 },
]);
const name = (s: ModelSpec) => `${s.kind} [${s.inputShape.join(',')}]`;

beforeAll(async () => {
  await initBackend('wasm');
});

describe('createModel', () => {
  it.each(specs.map((s) => [name(s), s] as const))('%s matches paramLayout exactly', (_, spec) => {
    const model = createModel(spec, 1);
    try {
      const layout = paramLayout(spec);
      expect(model.variables.map((v) => v.shape)).toEqual(layout.map((p) => p.shape));
      expect(getParams(model).length).toBe(paramCount(spec));
      const x = tf.zeros([3, ...spec.inputShape]);
      const logits = model.logits(x);
      expect(logits.shape).toEqual([3, 10]);
      tf.dispose([x, logits]);
    } finally {
      model.dispose();
    }
  });

  it.each(kinds)('%s: same seed gives bit-identical parameters, another seed different ones', (kind) => {
    const spec: ModelSpec = { kind, inputShape: [28, 28, 1], numClasses: 10 };
    const [a, b, c] = [createModel(spec, 5), createModel(spec, 5), createModel(spec, 6)];
    expect(paramsHash(getParams(a))).toBe(paramsHash(getParams(b)));
    expect(paramsHash(getParams(a))).not.toBe(paramsHash(getParams(c)));
    expect(paramsHash(getParams(a))).toBe(paramsHash(initialParams(spec, 5)));
    [a, b, c].forEach((m) => m.dispose());
  });

  it('draws Glorot-uniform kernels within their limit and zero biases', () => {
    const spec: ModelSpec = { kind: 'mcmahan-cnn', inputShape: [28, 28, 1], numClasses: 10 };
    const flat = initialParams(spec, 9);
    let offset = 0;
    for (const { name: param, shape } of paramLayout(spec)) {
      const size = shape.reduce((a, b) => a * b, 1);
      const values = flat.subarray(offset, offset + size);
      offset += size;
      if (param.endsWith('/bias')) {
        expect(values.every((v) => v === 0), param).toBe(true);
        continue;
      }
      const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
      const limit = Math.sqrt(6 / (receptive * (shape.at(-2)! + shape.at(-1)!)));
      let max = 0;
      let sumSq = 0;
      for (const v of values) {
        max = Math.max(max, Math.abs(v));
        sumSq += v * v;
      }
      expect(max, param).toBeLessThanOrEqual(limit);
      // Uniform(−l, l) has variance l²/3.
      expect(sumSq / size / (limit * limit / 3), param).toBeCloseTo(1, 1);
    }
  });
});

describe('getParams / setParams', () => {
  const spec: ModelSpec = { kind: 'cnn', inputShape: [28, 28, 1], numClasses: 10 };

  it('round-trip, and setParams copies rather than aliasing the caller\'s vector', () => {
    const model = createModel(spec, 1);
    const rng = Rng.fromSeed(2);
    const flat = Float32Array.from({ length: paramCount(spec) }, () => rng.normal());
    setParams(model, flat);
    expect(paramsHash(getParams(model))).toBe(paramsHash(flat));
    const before = paramsHash(flat);
    flat.fill(0);
    expect(paramsHash(getParams(model))).toBe(before);
    model.dispose();
  });

  it.each([0, 1, paramCount(spec) - 1, paramCount(spec) + 1])('rejects a vector of length %i with a ParameterError', (n) => {
    const model = createModel(spec, 1);
    expect(() => setParams(model, new Float32Array(n))).toThrow(ParameterError);
    model.dispose();
  });

  it('does not leak tensors', () => {
    const model = createModel(spec, 1);
    const flat = getParams(model);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) setParams(model, getParams(model).map((v) => v + 1));
    setParams(model, flat);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('hand-written layer gradients match tfjs autodiff', () => {
  const rng = Rng.fromSeed(11);
  const rand = (shape: number[]) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);

  it.each([
    ['wide, relu', 32, 20, 40, 'relu'],
    ['narrow, linear', 32, 50, 10, 'linear'],
    ['batch of 1, relu', 1, 7, 3, 'relu'],
  ] as const)('dense: %s', (_, n, inputs, units, activation) => {
    const [x, w, b, r] = [rand([n, inputs]), rand([inputs, units]), rand([units]), rand([n, units])];
    const loss = (f: (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor) => (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(f(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D), r));
    const ours = tf.grads(loss((x, w, b) => dense(x, w, b, activation, true)))([x, w, b]);
    const ref = tf.grads(loss((x, w, b) => tf.fused.matMul({ a: x, b: w, bias: b, activation })))([x, w, b]);
    ours.forEach((g, i) => {
      const diff = tf.max(tf.abs(tf.sub(g, ref[i]!))).dataSync()[0]!;
      expect(diff, `input ${i}`).toBeLessThan(1e-4);
    });
  });

  // The reference is the cpu backend's MaxPoolGrad: wasm's own drops the gradient of windows
  // whose values are all negative (found by this test; harmless after a ReLU, but wrong).
  it.each([
    [2, 6, 6, 3],
    [2, 7, 5, 2],
  ])('maxPool2x2 on %ix%ix%ix%i, on wasm and cpu, against the cpu MaxPoolGrad', async (n, h, w, c) => {
    const xData = Float32Array.from({ length: n * h * w * c }, () => rng.normal());
    const rData = Float32Array.from({ length: n * Math.floor(h / 2) * Math.floor(w / 2) * c }, () => rng.normal());
    const run = (pool: (x: tf.Tensor4D) => tf.Tensor) => {
      const x = tf.tensor4d(xData, [n, h, w, c]);
      const r = tf.tensor4d(rData, [n, Math.floor(h / 2), Math.floor(w / 2), c]);
      const y = pool(x).dataSync();
      const [dx] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(pool(a as tf.Tensor4D), r)))([x]);
      // + 0 turns −0 (a masked negative gradient) into 0: the same gradient, but not toEqual.
      return { y: Array.from(y), dx: Array.from(dx!.dataSync(), (v) => v + 0) };
    };
    await initBackend('cpu');
    const ref = run((x) => tf.maxPool(x, 2, 2, 'valid'));
    const onCpu = run(maxPool2x2);
    await initBackend('wasm');
    const onWasm = run(maxPool2x2);
    expect(onCpu).toEqual(ref);
    expect(onWasm).toEqual(ref);
  });
});

describe('convPool (conv + activation + 2x2 max pool as one op) matches tfjs autodiff on the cpu backend', () => {
  interface Case {
    readonly batch: number;
    readonly size: [number, number];
    readonly inCh: number;
    readonly outCh: number;
    readonly kernel: number;
    readonly pad: 'same' | 'valid';
    readonly activation: 'relu' | 'linear';
  }
  const cases: Case[] = [
    // cnn's first layer, through the single-channel filter gradient.
    { batch: 3, size: [28, 28], inCh: 1, outCh: 32, kernel: 3, pad: 'valid', activation: 'relu' },
    // McMahan's first layer.
    { batch: 2, size: [28, 28], inCh: 1, outCh: 32, kernel: 5, pad: 'same', activation: 'relu' },
    // Odd conv outputs (7x5): the last row and column are never pooled.
    { batch: 2, size: [9, 7], inCh: 1, outCh: 4, kernel: 3, pad: 'valid', activation: 'relu' },
    { batch: 2, size: [14, 14], inCh: 8, outCh: 16, kernel: 5, pad: 'same', activation: 'relu' },
    { batch: 2, size: [9, 9], inCh: 3, outCh: 5, kernel: 2, pad: 'same', activation: 'linear' },
    { batch: 2, size: [8, 8], inCh: 1, outCh: 3, kernel: 3, pad: 'same', activation: 'linear' },
  ];
  const label = (c: Case) => `${c.batch}x${c.size.join('x')}x${c.inCh} → ${c.outCh}, ${c.kernel}x${c.kernel} ${c.pad} ${c.activation}`;

  it.each(cases.map((c, i) => [label(c), c, i] as const))('%s, on cpu and wasm', async (_, c, i) => {
    const rng = Rng.fromSeed(40 + i);
    const normal = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
    const [h, w] = c.size;
    const xData = normal(c.batch * h * w * c.inCh);
    const wData = normal(c.kernel * c.kernel * c.inCh * c.outCh);
    const bData = normal(c.outCh);
    const [oh, ow] = c.pad === 'same' ? [h, w] : [h - c.kernel + 1, w - c.kernel + 1];
    const outShape = [c.batch, Math.floor(oh / 2), Math.floor(ow / 2), c.outCh];
    const rData = normal(outShape.reduce((a, d) => a * d, 1));
    const grads = (f: (x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D) => tf.Tensor) => {
      const x = tf.tensor4d(xData, [c.batch, h, w, c.inCh]);
      const wt = tf.tensor4d(wData, [c.kernel, c.kernel, c.inCh, c.outCh]);
      const b = tf.tensor1d(bData);
      const r = tf.tensor(rData, outShape);
      const loss = (a: tf.Tensor, v: tf.Tensor, u: tf.Tensor) => tf.sum(tf.mul(f(a as tf.Tensor4D, v as tf.Tensor4D, u as tf.Tensor1D), r));
      const out = tf.grads(loss)([x, wt, b]).map((g) => g.dataSync() as Float32Array);
      return { y: f(x, wt, b).dataSync() as Float32Array, dx: out[0]!, dw: out[1]!, db: out[2]! };
    };
    const reference = (x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D) => {
      const z = tf.add(tf.conv2d(x, w, 1, c.pad), b);
      return tf.maxPool(c.activation === 'relu' ? tf.relu(z) : z, 2, 2, 'valid');
    };
    const ours = (x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D) => convPool(x, w, b, c.pad, c.activation, true);
    await initBackend('cpu');
    const ref = grads(reference);
    const onCpu = grads(ours);
    await initBackend('wasm');
    const onWasm = grads(ours);
    for (const [backend, got] of [['cpu', onCpu], ['wasm', onWasm]] as const) {
      for (const key of ['y', 'dx', 'dw', 'db'] as const) {
        expect(relError(got[key], ref[key]), `${backend} ${key}`).toBeLessThan(1e-5);
      }
    }
  });
});

/** max |a − b| / max |b|: the error relative to the value's scale. */
function relError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}
