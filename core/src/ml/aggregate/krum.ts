import { BadInputError } from '../../util/errors.js';
import { axpyReference, divideReference } from './arithmetic.js';

/** Which inputs Krum picked and their scores (for logs and tests). */
export interface KrumSelection {
  /** Indices of the chosen inputs, ascending. */
  readonly selected: readonly number[];
  /** Each input's score: Σ of squared distances to its n − f − 2 nearest other inputs. */
  readonly scores: readonly number[];
}

/**
 * Krum and Multi-Krum (Blanchard et al. 2017): scores every input by the sum of squared
 * Euclidean distances to its n − f − 2 nearest neighbours and picks the m lowest (ties go
 * to the lower index, i.e. the lower memberId). Needs n ≥ 2f + 3 and m ≤ n − f.
 * Distances are binary64 sums in coordinate order; the neighbour distances are summed in
 * ascending order. O(N²·P) time.
 */
export function krumSelect(vectors: readonly Float32Array[], f: number, m: number): KrumSelection {
  const n = vectors.length;
  if (n < 2 * f + 3) {
    throw new BadInputError(`krum with f=${f} needs at least ${2 * f + 3} inputs (2f + 3), got ${n}; wait for more submissions or lower f`);
  }
  if (m > n - f) throw new BadInputError(`multi-krum with m=${m} and f=${f} needs at least ${m + f} inputs (m + f), got ${n}`);
  const dist = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const d = squaredDistance(vectors[a]!, vectors[b]!);
      dist[a * n + b] = d;
      dist[b * n + a] = d;
    }
  }
  const neighbours = n - f - 2;
  const scores: number[] = [];
  const row = new Float64Array(n - 1);
  for (let a = 0; a < n; a++) {
    let j = 0;
    for (let b = 0; b < n; b++) if (b !== a) row[j++] = dist[a * n + b]!;
    row.sort();
    let s = 0;
    for (let t = 0; t < neighbours; t++) s += row[t]!;
    scores.push(s);
  }
  const ranked = scores.map((s, i) => i).sort((a, b) => scores[a]! - scores[b]! || a - b);
  return { selected: ranked.slice(0, m).sort((a, b) => a - b), scores };
}

/**
 * The Krum aggregate: the selected input itself for m = 1, else the unweighted mean of the
 * m selected inputs with the weighted-sum arithmetic of arithmetic.ts (weights 1, in memberId
 * order). Weights are ignored: Krum's guarantee is about the vectors, not claimed counts.
 */
export function krum(vectors: readonly Float32Array[], length: number, f: number, m: number): Float32Array {
  const { selected } = krumSelect(vectors, f, m);
  if (selected.length === 1) return vectors[selected[0]!]!.slice();
  const acc = new Float32Array(length);
  for (const i of selected) {
    // finite inputs and m ≤ n keep this sum finite unless inputs sit at float32's limit
    if (!axpyReference(acc, acc, vectors[i]!, 1)) throw new BadInputError('multi-krum mean overflowed float32; inputs are near the float32 limit');
  }
  divideReference(acc, acc, selected.length);
  return acc;
}

function squaredDistance(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    s += d * d;
  }
  return s;
}
