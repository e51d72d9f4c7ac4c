import type { Rng } from '../../util/index.js';
import { apportion } from './apportion.js';
import { dirichletShares } from './dirichletShares.js';
import { cutBySizes } from './partitionIid.js';

/**
 * Quantity skew: client sizes follow a Dirichlet(alpha) draw while labels stay IID (samples
 * are shuffled before being cut). Every client first gets one sample, and only the remaining
 * count − clients samples are shared by the draw, so no client is left empty even when a small
 * alpha puts almost all the mass on a few clients.
 */
export function partitionQuantity(count: number, clients: number, alpha: number, rng: Rng): Int32Array[] {
  const order = rng.shuffle(Int32Array.from({ length: count }, (_, i) => i));
  const shares = dirichletShares(rng, alpha, clients);
  const sizes = apportion(count - clients, shares).map((n) => n + 1);
  return cutBySizes(order, sizes);
}
