import { describe, expect, it } from 'vitest';
import { UnsupportedError } from '../util/errors.js';
import { architecture, paramCount, paramLayout } from './layout.js';
import type { ModelSpec } from '../spec/ml.js';

const digits = (kind: ModelSpec['kind'], inputShape: number[] = [28, 28, 1], extra: Partial<ModelSpec> = {}): ModelSpec => ({
  kind,
  inputShape,
  numClasses: 10,
  ...extra,
});

describe('paramCount', () => {
  const cases: [string, ModelSpec, number][] = [
    ['logreg', digits('logreg'), 784 * 10 + 10],
    ['mlp 784-128-10', digits('mlp'), 784 * 128 + 128 + 128 * 10 + 10],
    ['mlp hidden [64]', digits('mlp', [784], { hidden: [64] }), 784 * 64 + 64 + 64 * 10 + 10],
    ['2nn 784-200-200-10', digits('2nn'), 784 * 200 + 200 + 200 * 200 + 200 + 200 * 10 + 10],
    ['2nn hidden [50, 20]', digits('2nn', [784], { hidden: [50, 20] }), 784 * 50 + 50 + 50 * 20 + 20 + 20 * 10 + 10],
    ['cnn (valid 3x3: 26 → pool 13)', digits('cnn'), 3 * 3 * 32 + 32 + 13 * 13 * 32 * 10 + 10],
    ['mcmahan-cnn (McMahan et al. 2017)', digits('mcmahan-cnn'), 1_663_370],
    ['mcmahan-cnn on flat input', digits('mcmahan-cnn', [784]), 1_663_370],
    ['mcmahan-cnn on [28, 28]', digits('mcmahan-cnn', [28, 28]), 1_663_370],
    ['cnn on 3-channel 32x32', { kind: 'cnn', inputShape: [32, 32, 3], numClasses: 10 }, 3 * 3 * 3 * 32 + 32 + 15 * 15 * 32 * 10 + 10],
    ['logreg on a 5-feature table, 3 classes', { kind: 'logreg', inputShape: [5], numClasses: 3 }, 5 * 3 + 3],
  ];
  it.each(cases)('%s', (_, spec, expected) => {
    expect(paramCount(spec)).toBe(expected);
  });
});

describe('paramLayout', () => {
  it('lists kernel before bias, in forward order, with Keras shapes', () => {
    expect(paramLayout(digits('mcmahan-cnn'))).toEqual([
      { name: 'conv_0/kernel', shape: [5, 5, 1, 32] },
      { name: 'conv_0/bias', shape: [32] },
      { name: 'conv_1/kernel', shape: [5, 5, 32, 64] },
      { name: 'conv_1/bias', shape: [64] },
      { name: 'dense_0/kernel', shape: [3136, 512] },
      { name: 'dense_0/bias', shape: [512] },
      { name: 'dense_1/kernel', shape: [512, 10] },
      { name: 'dense_1/bias', shape: [10] },
    ]);
  });

  it('gives the same layout for flat and image inputs of dense models', () => {
    for (const kind of ['logreg', 'mlp', '2nn'] as const) {
      expect(paramLayout(digits(kind, [784])), kind).toEqual(paramLayout(digits(kind, [28, 28, 1])));
    }
  });

  it('ends dense stacks with a linear layer and uses relu before', () => {
    const acts = architecture(digits('2nn')).layers.map((l) => (l.kind === 'dense' ? l.activation : l.kind));
    expect(acts).toEqual(['relu', 'relu', 'linear']);
  });
});

describe('unsupported specs', () => {
  const cases: [string, ModelSpec, RegExp][] = [
    ['cnn on a non-square flat input', digits('cnn', [10]), /not a square image/],
    ['hidden on logreg', digits('logreg', [784], { hidden: [5] }), /no hidden layers/],
    ['hidden on cnn', digits('cnn', [28, 28, 1], { hidden: [5] }), /no hidden layers/],
    ['mcmahan-cnn on 2x2 images', digits('mcmahan-cnn', [2, 2, 1]), /larger images/],
  ];
  it.each(cases)('%s', (_, spec, message) => {
    expect(() => paramLayout(spec)).toThrow(UnsupportedError);
    expect(() => paramLayout(spec)).toThrow(message);
  });
});
