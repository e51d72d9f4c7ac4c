import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { UnsupportedError } from '../../util/errors.js';
import { initBackend } from '../backend.js';
import { paramLayout } from '../layout.js';
import { createModel, getParams } from '../models.js';
import { paramsHash } from '../params.js';
import type { ModelSpec, TrainSpec } from '../../spec/ml.js';
import { chooseEngine, trainLocal } from '../train.js';
import { syntheticDigits } from '../trainBench.js';
import type { LabeledData } from '../types.js';
import { fastKernelsWasmBase64 } from './kernelsWasm.js';
// @ts-expect-error: a plain .mjs build script without type declarations
import { assembleKernels, kernelsModuleSource, kernelsWat } from './buildKernels.mjs';

// One epoch on the fast path against one epoch on the tfjs layers (wasm backend), from the
// same initial parameters over the same shuffled batches. Rounding differs (other summation
// orders), and ten SGD steps carry it along, so each parameter tensor must agree within
// TOLERANCE of its largest magnitude.
const TOLERANCE = 1e-4;

const spec = (kind: ModelSpec['kind']): ModelSpec => ({ kind, inputShape: [28, 28, 1], numClasses: 10 });
const sgd = (extra: Partial<TrainSpec> = {}): TrainSpec => ({ optimizer: { kind: 'sgd', lr: 0.05, momentum: 0 }, epochs: 1, batchSize: 32, mu: 0, seed: 5, ...extra });

/** Same learnable-ish data for both: pixels of digit-shaped noise, labels from the pixel mean. */
function dataOf(count: number): LabeledData {
  const d = syntheticDigits(count, 9);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    let sum = 0;
    for (let p = 0; p < 784; p++) sum += d.features[i * 784 + p]!;
    // the mean of 784 uniform pixels is 0.5 ± 0.01: spread it over the classes
    labels[i] = Math.min(9, Math.max(0, Math.floor((sum / 784 - 0.5) / 0.004) + 5));
  }
  return { ...d, labels };
}

async function trained(model: ModelSpec, data: LabeledData, train: TrainSpec, engine: 'fast' | 'tfjs', threads = 1): Promise<{ params: Float32Array; loss: number; accuracy: number }> {
  const m = createModel(model, 3);
  try {
    const r = await trainLocal(m, data, train, { engine, globalParams: getParams(m), threads });
    expect(r.engine).toBe(engine);
    return { params: getParams(m), loss: r.loss, accuracy: r.accuracy };
  } finally {
    m.dispose();
  }
}

function expectClose(model: ModelSpec, actual: Float32Array, expected: Float32Array, initial: Float32Array): void {
  let at = 0;
  for (const p of paramLayout(model)) {
    const size = p.shape.reduce((a, b) => a * b, 1);
    let scale = 0;
    let worst = 0;
    let moved = 0;
    for (let i = at; i < at + size; i++) {
      scale = Math.max(scale, Math.abs(expected[i]!));
      worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
      moved = Math.max(moved, Math.abs(expected[i]! - initial[i]!));
    }
    expect(moved, `${model.kind} ${p.name}: training changed it`).toBeGreaterThan(0);
    expect(worst / scale, `${model.kind} ${p.name}: largest difference relative to the largest parameter`).toBeLessThan(TOLERANCE);
    at += size;
  }
}

describe('the fast path trains like the tfjs layers', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  const cases: [string, ModelSpec, number, TrainSpec][] = [
    ['logreg', spec('logreg'), 320, sgd()],
    ['mlp', spec('mlp'), 320, sgd()],
    ['2nn', spec('2nn'), 320, sgd()],
    ['cnn', spec('cnn'), 320, sgd()],
    ['mcmahan-cnn', spec('mcmahan-cnn'), 64, sgd()],
    // a last batch of 20, momentum and FedProx
    ['2nn, momentum 0.9, FedProx mu 0.1, 340 samples', spec('2nn'), 340, sgd({ optimizer: { kind: 'sgd', lr: 0.02, momentum: 0.9 }, mu: 0.1 })],
    ['cnn, momentum 0.5, 2 epochs', spec('cnn'), 200, sgd({ optimizer: { kind: 'sgd', lr: 0.02, momentum: 0.5 }, epochs: 2 })],
  ];

  it.each(cases)('%s: one epoch gives the same parameters, loss and accuracy', async (_, model, count, train) => {
    const data = dataOf(count);
    const initial = getParams(createModel(model, 3));
    const tfjs = await trained(model, data, train, 'tfjs');
    const fast = await trained(model, data, train, 'fast');
    expectClose(model, fast.params, tfjs.params, initial);
    expect(fast.loss).toBeCloseTo(tfjs.loss, 4);
    expect(fast.accuracy).toBe(tfjs.accuracy);
  });

  it.each(['mlp', '2nn', 'cnn', 'mcmahan-cnn'] as const)('%s: equal seeds give bit-identical parameters, other seeds others', async (kind) => {
    const data = dataOf(kind === 'mcmahan-cnn' ? 40 : 256);
    const hashes = [];
    for (const seed of [1, 1, 2]) hashes.push(paramsHash((await trained(spec(kind), data, sgd({ seed }), 'fast')).params));
    expect(hashes[1]).toBe(hashes[0]);
    expect(hashes[2]).not.toBe(hashes[0]);
  });
});

describe('the fast path on several threads', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  // 340 samples: the last batch of 20 splits unevenly; 3 threads on a batch of 2 leave a lane empty
  const cases: [string, ModelSpec, number, TrainSpec, number][] = [
    ['2nn, 2 threads', spec('2nn'), 340, sgd({ optimizer: { kind: 'sgd', lr: 0.02, momentum: 0.9 }, mu: 0.1 }), 2],
    ['cnn, 3 threads', spec('cnn'), 340, sgd(), 3],
    ['mcmahan-cnn, 2 threads', spec('mcmahan-cnn'), 34, sgd(), 2],
    ['mlp, 3 threads, batches of 2', spec('mlp'), 41, sgd({ batchSize: 2 }), 3],
  ];

  it.each(cases)('%s: trains like tfjs, and equal seeds give bit-identical parameters', async (_, model, count, train, threads) => {
    const data = dataOf(count);
    const initial = getParams(createModel(model, 3));
    const tfjs = await trained(model, data, train, 'tfjs');
    const fast = await trained(model, data, train, 'fast', threads);
    expectClose(model, fast.params, tfjs.params, initial);
    expect(fast.loss).toBeCloseTo(tfjs.loss, 4);
    expect(fast.accuracy).toBe(tfjs.accuracy);
    const again = await trained(model, data, train, 'fast', threads);
    expect(paramsHash(again.params)).toBe(paramsHash(fast.params));
  });

  it('rejects a thread count outside 1..32', async () => {
    const m = createModel(spec('mlp'), 1);
    try {
      await expect(trainLocal(m, dataOf(32), sgd(), { engine: 'fast', threads: 0 })).rejects.toThrow(/threads must be a whole number from 1 to 32/);
      await expect(trainLocal(m, dataOf(32), sgd(), { engine: 'fast', threads: 33 })).rejects.toThrow(/threads must be a whole number from 1 to 32/);
    } finally {
      m.dispose();
    }
  });
});

describe('chooseEngine', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('takes the fast path for SGD on wasm and tfjs for Adam, saying why', () => {
    const model = createModel(spec('cnn'), 1);
    try {
      expect(chooseEngine(model, sgd())).toEqual({ engine: 'fast' });
      expect(chooseEngine(model, sgd(), 'tfjs').engine).toBe('tfjs');
      const adam = sgd({ optimizer: { kind: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } });
      expect(chooseEngine(model, adam)).toEqual({ engine: 'tfjs', reason: "optimizer 'adam'" });
      expect(() => chooseEngine(model, adam, 'fast')).toThrow(UnsupportedError);
    } finally {
      model.dispose();
    }
  });

  it("leaves McMahan's CNN, whose wide second conv XNNPACK does faster, to tfjs unless asked for", () => {
    const model = createModel(spec('mcmahan-cnn'), 1);
    try {
      expect(chooseEngine(model, sgd()).reason).toMatch(/conv layer 'conv_1' reads 5×5×32 values per output/);
      expect(chooseEngine(model, sgd(), 'fast')).toEqual({ engine: 'fast' });
    } finally {
      model.dispose();
    }
  });

  it('leaves batch sizes whose buffers would pass 1 GiB to tfjs', () => {
    const model = createModel(spec('mcmahan-cnn'), 1);
    try {
      expect(chooseEngine(model, sgd({ batchSize: 16384 })).reason).toMatch(/batch size 16384 needs \d+ MiB/);
    } finally {
      model.dispose();
    }
  });
});

describe('kernels.wat', () => {
  it('kernels.wat and kernelsWasm.ts hold exactly what buildKernels.mjs generates (run it after editing)', async () => {
    const wat = kernelsWat() as string;
    expect(await readFile(new URL('./kernels.wat', import.meta.url), 'utf8')).toBe(wat);
    const bytes = (await assembleKernels(wat)) as Uint8Array;
    expect(Buffer.from(fastKernelsWasmBase64, 'base64').equals(Buffer.from(bytes))).toBe(true);
    expect(await readFile(new URL('./kernelsWasm.ts', import.meta.url), 'utf8')).toBe(kernelsModuleSource(bytes));
  });
});
