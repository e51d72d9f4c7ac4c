import type { Rng } from '../../util/index.js';

/**
 * A Dirichlet(alpha, …, alpha) draw of dimension k that is always a valid probability
 * vector. For very small alpha every gamma variate can underflow to 0, which makes the plain
 * draw 0/0; then this returns the draw's limit as alpha → 0: all mass on one coordinate,
 * chosen uniformly.
 */
export function dirichletShares(rng: Rng, alpha: number, k: number): number[] {
  const shares = rng.dirichlet(alpha, k);
  if (shares.every(Number.isFinite)) return shares;
  const oneHot = new Array<number>(k).fill(0);
  oneHot[rng.int(k)] = 1;
  return oneHot;
}
