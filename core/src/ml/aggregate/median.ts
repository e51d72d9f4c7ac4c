import { forEachSortedColumn } from './columns.js';

/**
 * Coordinate-wise median (Yin et al. 2018). For an even count it is the mean of the two
 * middle values, fround((a + b) / 2) in binary64. Weights are ignored on purpose: a
 * self-reported sample count must not let one member pull the median. O(N·P) memory.
 */
export function coordinateMedian(vectors: readonly Float32Array[], length: number): Float32Array {
  const out = new Float32Array(length);
  const n = vectors.length;
  const mid = n >> 1;
  forEachSortedColumn(vectors, length, (column, i) => {
    out[i] = n % 2 === 1 ? column[mid]! : Math.fround((column[mid - 1]! + column[mid]!) / 2);
  });
  return out;
}
