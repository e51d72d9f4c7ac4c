import { describe, expect, it } from 'vitest';
import { partitionStats } from './partitionStats.js';

describe('partitionStats', () => {
  const labels = Int32Array.of(0, 0, 1, 1, 2, 2);

  it('counts samples and classes per client', () => {
    const stats = partitionStats([Int32Array.of(0, 2), Int32Array.of(1, 3, 4, 5)], labels, 3);
    expect(stats.clients).toEqual([
      { client: 0, count: 2, histogram: [1, 1, 0], classes: 2 },
      { client: 1, count: 4, histogram: [1, 1, 2], classes: 3 },
    ]);
    expect([stats.total, stats.minCount, stats.maxCount, stats.meanCount]).toEqual([6, 2, 4, 3]);
  });

  it('measures label skew as the mean total-variation distance from the global label mix', () => {
    const cases: [string, Int32Array[], number][] = [
      ['identical mixes', [Int32Array.of(0, 2, 4), Int32Array.of(1, 3, 5)], 0],
      ['one class each', [Int32Array.of(0, 1), Int32Array.of(2, 3), Int32Array.of(4, 5)], 2 / 3],
      ['one client', [Int32Array.of(0, 1, 2, 3, 4, 5)], 0],
    ];
    for (const [what, parts, skew] of cases) expect(partitionStats(parts, labels, 3).labelSkew, what).toBeCloseTo(skew, 12);
  });

  it('rejects an index with no label', () => {
    expect(() => partitionStats([Int32Array.of(6)], labels, 3)).toThrow(/part 0 has index 6/);
  });
});
