import { Rng } from '../../util/rng.js';
import type { AggregationInput } from '../types.js';
import type { VectorBackend } from './vectorBackend.js';

// Helpers shared by this folder's tests; not exported from index.ts.

/** Seeded inputs with values ~ N(center, spread²), member ids m000, m001, … in order. */
export function randomInputs(seed: number, count: number, length: number, center = 0, spread = 1): AggregationInput[] {
  const rng = Rng.fromSeed(seed);
  return Array.from({ length: count }, (_, k) => {
    const params = new Float32Array(length);
    for (let i = 0; i < length; i++) params[i] = center + spread * rng.normal();
    return { memberId: `m${String(k).padStart(3, '0')}`, params, weight: 1 + rng.int(100) };
  });
}

/** The raw bits of a float32 vector, for exact comparisons that also tell −0 from +0. */
export function bits(v: Float32Array): Uint32Array {
  return new Uint32Array(v.slice().buffer);
}

/** Wraps a backend and counts the vectors alive at once, to check memory bounds. */
export class CountingBackend implements VectorBackend {
  live = 0;
  peak = 0;
  constructor(private readonly inner: VectorBackend) {}
  get name(): 'wasm' | 'js' {
    return this.inner.name;
  }
  get length(): number {
    return this.inner.length;
  }
  alloc(): number {
    this.live++;
    this.peak = Math.max(this.peak, this.live);
    return this.inner.alloc();
  }
  free(handle: number): void {
    this.live--;
    this.inner.free(handle);
  }
  view(handle: number): Float32Array {
    return this.inner.view(handle);
  }
  /** Sweeps over vectors so far, i.e. accumulate calls (each reads its inputs once). */
  sweeps = 0;
  accumulate(dst: number, src: number, xs: readonly number[], ws: readonly number[]): boolean {
    this.sweeps++;
    return this.inner.accumulate(dst, src, xs, ws);
  }
  divide(dst: number, src: number, d: number): void {
    this.inner.divide(dst, src, d);
  }
}
