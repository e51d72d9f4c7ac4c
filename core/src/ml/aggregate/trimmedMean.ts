import { BadInputError } from '../../util/errors.js';
import { forEachSortedColumn } from './columns.js';

/** How many values trimmed mean drops from each end of a column of `n`: ⌊beta·n⌋. */
export function trimCount(beta: number, n: number): number {
  return Math.floor(beta * n);
}

/**
 * Coordinate-wise trimmed mean (Yin et al. 2018): per coordinate, drop the ⌊beta·N⌋
 * largest and smallest values and average the rest, summed in ascending order in binary64
 * and rounded once to float32. Weights are ignored, as for the median: trimming bounds
 * what an outlier can do only if no member can buy extra influence with a claimed count.
 * O(N·P) memory.
 */
export function trimmedMean(vectors: readonly Float32Array[], length: number, beta: number): Float32Array {
  const n = vectors.length;
  if (!(beta >= 0 && beta < 0.5)) throw new BadInputError(`trimmed-mean beta must be in [0, 0.5), got ${beta}`);
  const k = trimCount(beta, n);
  const kept = n - 2 * k;
  const out = new Float32Array(length);
  forEachSortedColumn(vectors, length, (column, i) => {
    let s = 0;
    for (let j = k; j < n - k; j++) s += column[j]!;
    out[i] = Math.fround(s / kept);
  });
  return out;
}
