import type { Rng } from '../../util/index.js';
import { apportion } from './apportion.js';

/**
 * IID partition: the samples are shuffled and dealt into `clients` parts whose sizes differ
 * by at most one, so every client sees the global label distribution up to sampling noise.
 */
export function partitionIid(count: number, clients: number, rng: Rng): Int32Array[] {
  const order = rng.shuffle(Int32Array.from({ length: count }, (_, i) => i));
  return cutBySizes(order, apportion(count, new Float64Array(clients).fill(1)));
}

/** Cuts `order` into consecutive parts of the given sizes (which must sum to its length). */
export function cutBySizes(order: Int32Array | Uint32Array, sizes: Int32Array): Int32Array[] {
  const parts: Int32Array[] = [];
  let at = 0;
  for (const size of sizes) {
    parts.push(Int32Array.from(order.subarray(at, at + size)));
    at += size;
  }
  return parts;
}
