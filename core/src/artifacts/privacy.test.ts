import { describe, expect, it } from 'vitest';
import { Rng } from '../util/rng.js';
import { addNoise, groupSizeRefusal, laplace } from './privacy.js';
import { partialOf } from './partial.js';
import type { PrivacySpec } from '../spec/artifactPlan.js';

describe('groupSizeRefusal', () => {
  const privacy: PrivacySpec = { minGroupSize: 10 };
  const cases: [number, boolean][] = [
    [0, true],
    [9, true],
    [10, false],
    [500, false],
  ];
  for (const [rows, refuses] of cases) {
    it(`${rows} rows: ${refuses ? 'refuses' : 'answers'}`, () => {
      const r = groupSizeRefusal(rows, privacy);
      expect(r !== null).toBe(refuses);
      // The reason must not tell how many rows there were.
      if (r) expect(r).not.toContain(String(rows === 0 ? 'zero' : rows));
    });
  }
});

describe('Laplace noise', () => {
  // Laplace(0, b): mean 0, E|x| = b, variance 2b². With n = 40,000 draws the standard errors
  // are about b/200 for E|x| and 0.5% of the variance x 4; the bounds below are > 5 sigma.
  for (const b of [0.5, 3, 20]) {
    it(`has scale ${b}`, () => {
      const rng = Rng.fromSeed(17 + b);
      const n = 40_000;
      const xs = Array.from({ length: n }, () => laplace(b, () => rng.float()));
      const mean = xs.reduce((a, x) => a + x, 0) / n;
      const meanAbs = xs.reduce((a, x) => a + Math.abs(x), 0) / n;
      const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1);
      expect(Math.abs(mean), 'mean').toBeLessThan((5 * Math.SQRT2 * b) / Math.sqrt(n));
      expect(Math.abs(meanAbs / b - 1), 'E|x| / b').toBeLessThan(0.03);
      expect(Math.abs(variance / (2 * b * b) - 1), 'variance / 2b²').toBeLessThan(0.1);
    });
  }

  it('perturbs a count by Laplace(1/epsilon) and a histogram bin by the same', () => {
    const privacy: PrivacySpec = { minGroupSize: 1, noise: { kind: 'laplace', epsilon: 0.5, bounds: {} } };
    const rng = Rng.fromSeed(3);
    const draws = Array.from({ length: 20_000 }, () => addNoise(partialOf('a', [], null, 100), { kind: 'count' }, privacy, () => rng.float()).n - 100);
    const meanAbs = draws.reduce((a, x) => a + Math.abs(x), 0) / draws.length;
    expect(Math.abs(meanAbs / 2 - 1)).toBeLessThan(0.05);
  });

  it('clips nothing and adds nothing without a noise section', () => {
    const p = partialOf('a', [1, 2, 3], null);
    expect(addNoise(p, { kind: 'stats', column: 'x', ops: ['mean'] }, { minGroupSize: 1 }, () => 0.9)).toBe(p);
  });
});
