import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '../util/rng.js';
import { addGaussianNoise, clipToNorm } from './clipAndNoise.js';
import { privateAverage } from './fedavgBaseline.js';

// Client-level clipping and Gaussian noise (DP-FedAvg's two mechanisms).

describe('clipping and noise', () => {
  it('clips to norm C, keeps the direction, and leaves an update within C as it was', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: 1, maxLength: 64 }), fc.double({ min: 0.01, max: 50, noNaN: true }), (xs, c) => {
        const v = Float64Array.from(xs);
        const { norm, scale } = clipToNorm(v, c);
        const after = Math.hypot(...v);
        expect(after).toBeLessThanOrEqual(c * (1 + 1e-12));
        if (norm <= c) expect([...v]).toEqual(xs);
        else xs.forEach((x, i) => expect(v[i], `coordinate ${i}`).toBeCloseTo(x * scale, 12));
      }),
      { seed: 10 },
    );
    expect(() => clipToNorm(Float32Array.from([1, Number.NaN]), 1)).toThrow(/not finite/);
    expect(() => clipToNorm(new Float32Array(2), 0)).toThrow(/clipping norm/);
  });

  it('adds noise of the asked standard deviation, the same for the same seed', () => {
    const a = new Float64Array(200_000);
    const rng = Rng.fromSeed(42);
    addGaussianNoise(a, 0.5, () => rng.normal());
    const mean = a.reduce((s, x) => s + x, 0) / a.length;
    const sd = Math.sqrt(a.reduce((s, x) => s + (x - mean) ** 2, 0) / a.length);
    expect(Math.abs(mean)).toBeLessThan(0.005);
    expect(Math.abs(sd - 0.5)).toBeLessThan(0.005);
    const b = new Float64Array(200_000);
    const rng2 = Rng.fromSeed(42);
    addGaussianNoise(b, 0.5, () => rng2.normal());
    expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true);
    expect(() => addGaussianNoise(a, -1, () => 0)).toThrow(/standard deviation/);
  });
});

describe('privateAverage (one DP-FedAvg step)', () => {
  const global = Float32Array.from([1, 2, 3, 4]);
  const clients = [Float32Array.from([2, 2, 3, 4]), Float32Array.from([1, 0, 3, 4]), Float32Array.from([1, 2, 3, 10])];

  it('without noise and with a clip none reaches, is the plain unweighted average', () => {
    const { params, clippedFraction } = privateAverage(global, clients, 100, 0, () => 0);
    expect([...params]).toEqual([4 / 3, 4 / 3, 3, 6].map((x) => Math.fround(x)));
    expect(clippedFraction).toBe(0);
  });

  it('lets no client move the model by more than C / m, whatever its update', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 4, maxLength: 4 }), fc.double({ min: 0.01, max: 10, noNaN: true }), (xs, c) => {
        const others = [clients[0]!, clients[1]!];
        const without = privateAverage(global, [...others, global], c, 0, () => 0).params;
        const withIt = privateAverage(global, [...others, Float32Array.from(xs)], c, 0, () => 0).params;
        const moved = Math.hypot(...withIt.map((v, j) => v - without[j]!));
        expect(moved).toBeLessThanOrEqual((c / 3) * (1 + 1e-5) + 1e-5);
      }),
      { seed: 14 },
    );
  });

  it('adds σC noise to the sum, the same for the same seed', () => {
    const a = Rng.fromSeed(5);
    const b = Rng.fromSeed(5);
    const x = privateAverage(global, clients, 1, 2, () => a.normal()).params;
    const y = privateAverage(global, clients, 1, 2, () => b.normal()).params;
    expect([...x]).toEqual([...y]);
    expect([...x]).not.toEqual([...privateAverage(global, clients, 1, 0, () => 0).params]);
  });
});
