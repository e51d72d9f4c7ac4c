/**
 * Splits `total` whole items among buckets in proportion to `weights`, by the largest-remainder
 * (Hamilton) method: each bucket gets the floor of its exact share, and the items left over go
 * to the largest fractional parts, ties to the lower index. The counts always sum to `total`,
 * which is what lets partitioners and splits use every sample exactly once.
 */
export function apportion(total: number, weights: ArrayLike<number>): Int32Array {
  const k = weights.length;
  if (!Number.isInteger(total) || total < 0) throw new RangeError(`apportion: total must be a non-negative integer, got ${total}`);
  if (k === 0) throw new RangeError('apportion: needs at least one weight');
  let sum = 0;
  for (let i = 0; i < k; i++) {
    const w = weights[i]!;
    if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`apportion: weight ${i} is ${w}; weights must be finite and >= 0`);
    sum += w;
  }
  const counts = new Int32Array(k);
  if (total === 0) return counts;
  // All-zero weights (e.g. a Dirichlet draw that underflowed) fall back to equal shares.
  const share = (i: number): number => (sum > 0 ? (total * weights[i]!) / sum : total / k);
  const remainders: { i: number; r: number }[] = [];
  let given = 0;
  for (let i = 0; i < k; i++) {
    const exact = share(i);
    const whole = Math.floor(exact);
    counts[i] = whole;
    given += whole;
    remainders.push({ i, r: exact - whole });
  }
  remainders.sort((a, b) => b.r - a.r || a.i - b.i);
  // Floating-point error can leave `given` a hair off either way; these loops keep the sum exact.
  for (let j = 0; given < total; j = (j + 1) % k, given++) counts[remainders[j]!.i]! += 1;
  for (let j = k - 1; given > total; j = (j - 1 + k) % k) {
    const i = remainders[j]!.i;
    if (counts[i]! > 0) {
      counts[i]! -= 1;
      given--;
    }
  }
  return counts;
}
