import { xoroshiro128plus, xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import type { JumpableRandomGenerator } from 'pure-rand/types/JumpableRandomGenerator';

/**
 * A seeded, reproducible random source (xoroshiro128+). Every random choice in Canopy
 * (initialisation, shuffling, partitioning, sampling, simulated faults) goes through one,
 * so that a run is a pure function of its seed.
 */
export class Rng {
  private constructor(private readonly gen: JumpableRandomGenerator) {}

  /** A generator seeded by a 32-bit integer. */
  static fromSeed(seed: number): Rng {
    return new Rng(xoroshiro128plus(seed | 0));
  }

  /** Restores a generator from {@link Rng.state}. */
  static fromState(state: readonly number[]): Rng {
    return new Rng(xoroshiro128plusFromState(state));
  }

  /** The generator's internal state, for checkpoints. */
  state(): readonly number[] {
    return this.gen.getState();
  }

  /**
   * An independent stream derived from this seed and a label, so that adding a consumer
   * of randomness in one place does not shift the numbers every other place sees.
   */
  fork(label: string | number): Rng {
    const s = this.gen.clone().next();
    return Rng.fromSeed(hash32(`${s}:${label}`));
  }

  /** Uniform in [0, 1). */
  float(): number {
    return uniformFloat64(this.gen);
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!(n >= 1)) throw new RangeError(`Rng.int needs n >= 1, got ${n}`);
    return uniformInt(this.gen, 0, n - 1);
  }

  /** Standard normal, by Box–Muller. */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.float();
    const v = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Gamma(shape, 1), by Marsaglia and Tsang; used for Dirichlet draws. */
  gamma(shape: number): number {
    if (!(shape > 0)) throw new RangeError(`Rng.gamma needs shape > 0, got ${shape}`);
    if (shape < 1) {
      // Boost: Gamma(a) = Gamma(a + 1) * U^(1/a)
      return this.gamma(shape + 1) * Math.pow(this.float() || Number.MIN_VALUE, 1 / shape);
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.float();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** A Dirichlet(alpha, ..., alpha) draw of dimension k. */
  dirichlet(alpha: number, k: number): number[] {
    const g = Array.from({ length: k }, () => this.gamma(alpha));
    const sum = g.reduce((a, b) => a + b, 0);
    return g.map((x) => x / sum);
  }

  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<T>(items: T[]): T[];
  shuffle(items: Int32Array | Uint32Array): Int32Array | Uint32Array;
  shuffle<T>(items: T[] | Int32Array | Uint32Array): T[] | Int32Array | Uint32Array {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = items[i]!;
      items[i] = items[j]!;
      items[j] = t as never;
    }
    return items;
  }

  /** k distinct indices from [0, n), in random order. */
  sample(n: number, k: number): number[] {
    const idx = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < Math.min(k, n); i++) {
      const j = i + this.int(n - i);
      const t = idx[i]!;
      idx[i] = idx[j]!;
      idx[j] = t;
    }
    return idx.slice(0, Math.min(k, n));
  }
}

/** FNV-1a 32-bit hash of a string; deterministic seed derivation, not for security. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}
