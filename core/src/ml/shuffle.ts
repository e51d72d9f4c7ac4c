import { Rng } from '../util/rng.js';

/** Sample indices 0..count−1 in the order of one epoch: a Fisher–Yates shuffle seeded by (seed, epoch). */
export function shuffledIndices(count: number, seed: number, epoch: number): Int32Array {
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  Rng.fromSeed(seed).fork(`epoch:${epoch}`).shuffle(order);
  return order;
}
