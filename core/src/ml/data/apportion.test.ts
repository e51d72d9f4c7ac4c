import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apportion } from './apportion.js';

describe('apportion', () => {
  const cases: { total: number; weights: number[]; expected: number[] }[] = [
    { total: 10, weights: [1, 1], expected: [5, 5] },
    { total: 10, weights: [1, 1, 1], expected: [4, 3, 3] },
    { total: 7, weights: [0.5, 0.3, 0.2], expected: [4, 2, 1] },
    { total: 0, weights: [1, 2], expected: [0, 0] },
    { total: 5, weights: [0, 1], expected: [0, 5] },
    { total: 4, weights: [0, 0], expected: [2, 2] },
    { total: 3, weights: [1e-300, 1], expected: [0, 3] },
  ];
  for (const { total, weights, expected } of cases) {
    it(`${total} over [${weights.join(', ')}] → [${expected.join(', ')}]`, () => {
      expect([...apportion(total, weights)]).toEqual(expected);
    });
  }

  it('rejects weights that are not finite non-negative numbers', () => {
    for (const bad of [NaN, -1, Infinity]) expect(() => apportion(3, [1, bad]), `weight ${bad}`).toThrow(RangeError);
  });

  it('always sums to the total, and no bucket is more than one away from its exact share', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000 }),
        fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 50 }),
        (total, weights) => {
          const counts = apportion(total, weights);
          expect(counts.reduce((a, b) => a + b, 0)).toBe(total);
          const sum = weights.reduce((a, b) => a + b, 0);
          counts.forEach((n, i) => {
            const exact = sum > 0 ? (total * weights[i]!) / sum : total / weights.length;
            expect(Math.abs(n - exact), `bucket ${i}`).toBeLessThan(1 + 1e-9);
          });
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });
});
