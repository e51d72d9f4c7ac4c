import { Rng } from '../../util/rng.js';
import { SecAggError } from './secAggError.js';

// SecAgg+ (Bell et al. 2020, §3.2): each client shares keys and masks with k neighbours instead
// of all n - 1 others, so its cost grows with k = O(log n). The graph is a Harary graph H(k, n)
// over a random permutation of the members: members sit on a ring in permuted order and each is
// joined to the k/2 nearest on either side. Everyone derives the same graph from the round's
// seed and the sorted member list.

/**
 * A default neighbourhood size for n members: the even number nearest above 3 * log2(n), at
 * least 2, and n - 1 (everyone) once that is smaller. A heuristic in the O(log n) family, not
 * Bell et al.'s bound for a chosen security level; a manifest can set k itself.
 */
export function defaultNeighbours(n: number): number {
  if (n <= 3) return Math.max(n - 1, 0);
  const k = 2 * Math.ceil((3 * Math.log2(n)) / 2);
  return Math.min(n - 1, Math.max(2, k));
}

/**
 * Each member's neighbours (sorted ids), from the members, k and the round's seed. k is rounded
 * up to even; k >= n - 1 gives the complete graph (plain SecAgg). The graph is symmetric.
 */
export function neighbourGraph(members: readonly string[], k: number, seed: number): Map<string, string[]> {
  const ids = [...new Set(members)].sort();
  if (ids.length !== members.length) throw new SecAggError('BAD_PARAMETERS', 'secure aggregation members must be distinct');
  if (!Number.isInteger(k) || k < 1) throw new SecAggError('BAD_PARAMETERS', `the neighbourhood size must be a positive integer, got ${k}`);
  const n = ids.length;
  const out = new Map<string, string[]>();
  if (k >= n - 1) {
    for (const id of ids) out.set(id, ids.filter((o) => o !== id));
    return out;
  }
  const half = Math.ceil(k / 2);
  const order = Rng.fromSeed(seed).shuffle(ids.slice());
  for (let p = 0; p < n; p++) {
    const set = new Set<string>();
    for (let d = 1; d <= half; d++) {
      set.add(order[(p + d) % n]!);
      set.add(order[(p - d + n) % n]!);
    }
    set.delete(order[p]!);
    out.set(order[p]!, [...set].sort());
  }
  return out;
}
