import { describe, expect, it } from 'vitest';
import { benchTrain, syntheticDigits } from './trainBench.js';

describe('benchTrain', () => {
  it.each(['mlp', 'cnn'] as const)('measures %s on wasm', async (model) => {
    const r = await benchTrain({ model, seconds: 0.3 });
    expect(r).toMatchObject({ model, backend: 'wasm', batch: 32 });
    expect(r.samplesPerSec).toBeGreaterThan(50);
  });

  it('honours batch size and backend', async () => {
    const r = await benchTrain({ model: 'logreg', batch: 8, seconds: 0.2, backend: 'cpu' });
    expect(r).toMatchObject({ backend: 'cpu', batch: 8 });
    expect(r.samplesPerSec).toBeGreaterThan(0);
  });
});

describe('syntheticDigits', () => {
  it('is seeded, in [0, 1] with labels 0..9', () => {
    const a = syntheticDigits(50, 1);
    expect(syntheticDigits(50, 1)).toEqual(a);
    expect(a.features.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(a.labels.every((l) => l >= 0 && l < 10)).toBe(true);
    expect(new Set(a.labels).size).toBeGreaterThan(5);
  });
});
