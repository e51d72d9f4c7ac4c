import { ParameterError } from '../../util/errors.js';

// Secure aggregation sums integers in the ring Z_(2^32) (Bonawitz et al. 2017, §3): masks are
// uniform ring elements, so a masked value says nothing alone, and every honest worker adds the
// same integers to the same bytes, which keeps consensus by hash. Real values enter the ring as
// fixed point: v -> round(v * scale) mod 2^32, read back as a signed 32-bit integer / scale.

/** The largest magnitude a fixed-point value, or a sum of them, may reach: 2^31 - 1. */
export const RING_LIMIT = 0x7fffffff;

/**
 * The fixed-point scale for sums whose magnitude stays within `maxAbsSum`: the largest power of
 * two s with maxAbsSum * s <= 2^31 - 1 (a power of two so that decoding is exact). Every party of
 * a round must use the same scale; it follows from the round's bounds, never from the data.
 */
export function quantisationScale(maxAbsSum: number): number {
  if (!(maxAbsSum > 0) || !Number.isFinite(maxAbsSum)) throw new ParameterError(`secure aggregation needs a positive finite bound on the sum, got ${maxAbsSum}`);
  const e = Math.floor(Math.log2(RING_LIMIT / maxAbsSum));
  let s = 2 ** e;
  // log2 rounds; step back if the product crosses the limit by a hair
  while (maxAbsSum * s > RING_LIMIT) s /= 2;
  return s;
}

/**
 * A real vector as ring elements: round(v * scale) mod 2^32. Throws {@link ParameterError} when a
 * value is not finite or leaves [-bound, bound]: a value out of range would wrap the sum and
 * give every worker the same wrong model.
 */
export function quantise(values: ArrayLike<number>, scale: number, bound: number, out = new Uint32Array(values.length)): Uint32Array {
  if (out.length !== values.length) throw new ParameterError(`quantise: output length ${out.length} differs from input length ${values.length}`);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(Math.abs(v) <= bound)) throw new ParameterError(`value ${v} at index ${i} is outside the secure-aggregation range [-${bound}, ${bound}]`);
    out[i] = Math.round(v * scale) >>> 0;
  }
  return out;
}

/** Ring elements back to reals: each read as a signed 32-bit integer, divided by `scale`. */
export function dequantise(ring: Uint32Array, scale: number): Float64Array {
  const out = new Float64Array(ring.length);
  for (let i = 0; i < ring.length; i++) out[i] = (ring[i]! | 0) / scale;
  return out;
}

/** acc += x in the ring, in place; returns acc. */
export function ringAdd(acc: Uint32Array, x: Uint32Array): Uint32Array {
  if (acc.length !== x.length) throw new ParameterError(`ring vectors differ in length: ${acc.length} and ${x.length}`);
  for (let i = 0; i < acc.length; i++) acc[i] = (acc[i]! + x[i]!) >>> 0;
  return acc;
}

/** acc -= x in the ring, in place; returns acc. */
export function ringSub(acc: Uint32Array, x: Uint32Array): Uint32Array {
  if (acc.length !== x.length) throw new ParameterError(`ring vectors differ in length: ${acc.length} and ${x.length}`);
  for (let i = 0; i < acc.length; i++) acc[i] = (acc[i]! - x[i]!) >>> 0;
  return acc;
}
